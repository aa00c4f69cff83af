"""csv_loader on awkward public CSVs: the reading parameters, the warnings, and each warning's fix applied."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from flowza_core.errors import ParseError
from nodes.base import NodeContext
from nodes.catalog import discover
from nodes.samples import SAMPLES, load_sample

ADULT_FIRST = ("39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, "
               "2174, 0, 40, United-States, <=50K")


def adult_like(rows: int = 32_561, seed: int = 0) -> tuple[str, int]:
    """A table shaped like UCI Adult: no header, ', '-separated, CR line endings, '?' where values are missing.

    Returns the file's text and how many '?' it holds.
    """
    rnd = random.Random(seed)
    pick = rnd.choice
    work = ["State-gov", "Self-emp-not-inc", "Private", "Private", "Federal-gov", "Local-gov", "?"]
    education = [("Bachelors", 13), ("HS-grad", 9), ("11th", 7), ("Masters", 14), ("Some-college", 10)]
    occupation = ["Adm-clerical", "Exec-managerial", "Handlers-cleaners", "Prof-specialty", "Sales", "?"]
    lines = [ADULT_FIRST]
    for _ in range(rows - 1):
        school, years = pick(education)
        lines.append(", ".join(map(str, [
            rnd.randint(17, 90), pick(work), rnd.randint(12_285, 1_484_705), school, years,
            pick(["Never-married", "Married-civ-spouse", "Divorced", "Widowed"]), pick(occupation),
            pick(["Not-in-family", "Husband", "Wife", "Own-child", "Unmarried"]),
            pick(["White", "Black", "Asian-Pac-Islander", "Other"]), pick(["Male", "Female"]),
            pick([0, 0, 0, 2174, 14084]), pick([0, 0, 1902]), rnd.randint(1, 99),
            pick(["United-States", "United-States", "Cuba", "India", "Mexico", "?"]), pick(["<=50K", ">50K"])])))
    return "\r".join(lines) + "\r", sum(line.count(", ?") for line in lines)


@pytest.fixture
def load(data_dir, datasets_dir):
    """``load(**params)`` -> (table, warnings) from csv_loader, run as the engine runs it."""

    def run(sample_rows: int | None = None, **params) -> tuple[pd.DataFrame, list[dict]]:
        defn = discover()["csv_loader"]
        ctx = NodeContext(node_id="load", data_dir=data_dir, datasets_dir=datasets_dir, sample_rows=sample_rows)
        frame = defn.run({}, defn.params_model(**params), ctx)["dataset"].frame
        return frame, ctx.warnings

    return run


def codes(warnings: list[dict]) -> list[str]:
    return [w["code"] for w in warnings]


def test_an_adult_like_file_loads_whole_with_real_gaps(load, data_dir):
    text, markers = adult_like()
    (data_dir / "adult.data").write_bytes(text.encode())

    frame, warnings = load(file_path="adult.data", has_header=False, na_values=["?"], skip_initial_space=True)
    assert frame.shape == (32_561, 15) and warnings == []
    assert frame.iloc[0].tolist()[:4] == [39, "State-gov", 77516, "Bachelors"]  # the first row is data
    assert int(frame.isna().sum().sum()) == markers > 0
    assert frame["column_1"].dtype == "int64" and frame["column_3"].dtype == "int64"


def test_an_adult_like_file_read_with_defaults_loads_but_warns_about_the_header(load, data_dir):
    text, _ = adult_like()
    (data_dir / "adult.data").write_bytes(text.encode())

    frame, warnings = load(file_path="adult.data")
    assert len(frame) == 32_560 and "39" in frame.columns  # the first row was taken for names
    header = next(w for w in warnings if w["code"] == "HEADER_LOOKS_LIKE_DATA")
    assert header["message"] == ("the first row looks like data, not column names: no header? "
                                 "set has_header=false")
    assert header["fix"] == {"has_header": False}

    fixed, after = load(file_path="adult.data", **header["fix"])
    assert len(fixed) == 32_561 and "HEADER_LOOKS_LIKE_DATA" not in codes(after)


@pytest.mark.parametrize("content", [
    "5,3,8\n4,5,6\n",  # every name a number
    "Ada,36,2021-03-04\nBob,41,2020-01-02\nZoë,29,2019-12-31\n",  # names shaped like the values below
    "yes,3.5\nno,1.0\nyes,2.5\nyes,1.5\n",  # a name that is one of the values, a number over numbers
])
def test_a_header_that_looks_like_data_is_reported_and_the_fix_works(load, data_dir, content):
    (data_dir / "t.csv").write_text(content)
    rows = content.count("\n")

    frame, warnings = load(file_path="t.csv")
    assert codes(warnings) == ["HEADER_LOOKS_LIKE_DATA"] and len(frame) == rows - 1
    fixed, after = load(file_path="t.csv", **warnings[0]["fix"])
    assert after == [] and len(fixed) == rows


@pytest.mark.parametrize("content", [
    "name,age,city\nAda,36,Paris\nBob,41,Lyon\n",
    "id,2019,2020,2021\n1,5,6,7\n2,8,9,10\n",  # a numeric name among others
    "0,1,2,3\n5,6,7,8\n9,10,11,12\n",  # column labels 0…n-1, as written by a headerless DataFrame
    "2019,2020,2021\n5,6,7\n8,9,10\n",  # years
    "city,2020\n" + "Paris,3\nLyon,5\n" * 20,  # a categorical column under a word that is none of its values
    "sex,survived\nmale,0\nfemale,1\nmale,1\n",
])
def test_an_ordinary_header_raises_no_warning(load, data_dir, content):
    (data_dir / "t.csv").write_text(content)

    assert load(file_path="t.csv")[1] == []


@pytest.mark.parametrize(("separator", "shown"), [(";", "';'"), ("\t", "a tab"), ("|", "'|'")])
def test_one_column_from_lines_split_by_another_separator_suggests_it(load, data_dir, separator, shown):
    (data_dir / "t.csv").write_text("name;age;city\nAda;36;Paris\nBob;41;Lyon\n".replace(";", separator))

    frame, warnings = load(file_path="t.csv")
    assert codes(warnings) == ["SEPARATOR_LOOKS_WRONG"] and shown in warnings[0]["message"]
    assert warnings[0]["fix"] == {"separator": separator}
    fixed, after = load(file_path="t.csv", **warnings[0]["fix"])
    assert list(fixed.columns) == ["name", "age", "city"] and after == []


def test_decimal_commas_in_a_semicolon_file_are_an_error_that_names_the_separator(load, data_dir):
    """With ',' the header is one field and the rows two: refused (never shifted), with the way out."""
    (data_dir / "t.csv").write_text("name;price\nAda;3,5\nBob;4,25\n")

    with pytest.raises(ParseError, match="line 2 .* set the separator to ';'"):
        load(file_path="t.csv")
    fixed, warnings = load(file_path="t.csv", separator=";")
    assert fixed["price"].tolist() == ["3,5", "4,25"] and warnings == []


def test_a_comma_file_read_with_a_semicolon_suggests_the_comma(load, data_dir):
    (data_dir / "t.csv").write_text("a,b\n1,2\n3,4\n")

    _, warnings = load(file_path="t.csv", separator=";")
    assert [w["fix"] for w in warnings] == [{"separator": ","}]


def test_a_real_one_column_file_raises_no_warning(load, data_dir):
    (data_dir / "t.csv").write_text("comment\nnice; really\ngood\nfine | ok\n")

    assert load(file_path="t.csv")[1] == []


def test_a_marker_standing_for_missing_numbers_is_reported_and_the_fix_works(load, data_dir):
    (data_dir / "t.csv").write_text("age,score\n" + "".join(f"{'?' if i % 10 == 0 else i},{i}\n"
                                                          for i in range(200)))

    frame, warnings = load(file_path="t.csv")
    assert frame["age"].dtype != "int64" and codes(warnings) == ["MISSING_MARKER"]
    assert "'?'" in warnings[0]["message"] and "'age'" in warnings[0]["message"]
    assert warnings[0]["fix"] == {"na_values": ["?"]}
    fixed, after = load(file_path="t.csv", **warnings[0]["fix"])
    assert after == [] and fixed["age"].dtype == "float64" and fixed["age"].isna().sum() == 20


def test_markers_keep_the_values_already_given_and_the_space_before_them(load, data_dir):
    (data_dir / "t.csv").write_text("a, b, c\n" + "".join(f"{i}, {'-' if i % 3 else 'n.a.'}, x\n"
                                                        for i in range(30)))

    _, warnings = load(file_path="t.csv", na_values=["unknown"])
    assert codes(warnings) == ["MISSING_MARKER"]
    assert warnings[0]["fix"] == {"na_values": ["unknown", " -", " n.a."]}  # as the file spells them
    fixed, after = load(file_path="t.csv", **warnings[0]["fix"])
    assert after == [] and fixed[" b"].isna().all()


def test_ordinary_text_and_rare_markers_among_categories_raise_no_warning(load, data_dir):
    """'?' in 1 of 20 categories is left to the user: a 95% share of what is not a number is the bar."""
    (data_dir / "t.csv").write_text("work,grade\n" + "".join(f"{'?' if i % 20 == 0 else 'Private'},{'A'}\n"
                                                          for i in range(100)))

    assert load(file_path="t.csv")[1] == []


def test_warnings_in_a_preview_come_from_the_sample_read(load, data_dir):
    (data_dir / "t.csv").write_text("10,20\n" + "3,4\n" * 1000)

    frame, warnings = load(sample_rows=50, file_path="t.csv")
    assert len(frame) == 50 and codes(warnings) == ["HEADER_LOOKS_LIKE_DATA"]


@pytest.mark.parametrize("name", SAMPLES)
def test_shipped_samples_warn_only_when_their_header_is_left_out(load, data_dir, name):
    table = load_sample(name)
    table.to_csv(data_dir / "with.csv", index=False)
    table.to_csv(data_dir / "without.csv", index=False, header=False)

    assert load(file_path="with.csv")[1] == []
    _, warnings = load(file_path="without.csv")
    assert codes(warnings) == ["HEADER_LOOKS_LIKE_DATA"]
    fixed, after = load(file_path="without.csv", **warnings[0]["fix"], column_names=list(map(str, table.columns)))
    assert after == [] and len(fixed) == len(table)
