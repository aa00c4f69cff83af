"""How Flowza reads a CSV: line endings, byte-order marks, quoted newlines, headers, names, markers, paging."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from pydantic import ValidationError

from flowza_core.errors import EmptyData, InvalidParameter, NodeError, ParseError
from nodes.csv_reading import CsvReadOptions, read_csv, read_head

ENDINGS = {"LF": "\n", "CRLF": "\r\n", "CR": "\r"}
QUOTED = 'id,note,score\n1,"two\nlines",0.5\n2,plain,1.5\n3,"a, comma",\n'


def write(path, text: str, ending: str = "\n", bom: bool = False, encoding: str = "utf-8"):
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.replace("\n", ending).encode(encoding))
    return path


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
@pytest.mark.parametrize("bom", [False, True], ids=["", "BOM"])
def test_every_line_ending_with_or_without_a_bom_reads_the_same_table(tmp_path, ending, bom):
    frame = read_csv(write(tmp_path / "t.csv", QUOTED, ending, bom), CsvReadOptions())

    assert list(frame.columns) == ["id", "note", "score"]  # no BOM glued to the first name
    assert frame["id"].tolist() == [1, 2, 3]
    assert frame["note"].tolist() == [f"two{ending}lines", "plain", "a, comma"]  # the file's own line break
    assert frame["score"].tolist()[:2] == [0.5, 1.5] and pd.isna(frame["score"].iloc[2])


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_line_endings_hold_across_the_parsers_chunks(tmp_path, ending):
    """~7 MB: past the C parser's 256 KB buffer and pandas' 5 MB parallel-read threshold (which splits files
    at line breaks), so chunks start and end inside rows and inside quoted fields that look like rows."""
    rows = "".join(f'{i},"row {i}\n7,8,""9""",{i * 0.25}\n' for i in range(180_000))
    path = write(tmp_path / "big.csv", "a,b,c\n" + rows, ending)
    assert path.stat().st_size > 6 * 2**20
    frame = read_csv(path, CsvReadOptions())

    assert len(frame) == 180_000 and frame["a"].tolist() == list(range(180_000))
    assert frame["b"].iloc[-1] == f'row 179999{ending}7,8,"9"' and frame["c"].iloc[-1] == 179999 * 0.25


def test_a_bom_on_a_file_without_header_stays_out_of_the_first_value(tmp_path):
    frame = read_csv(write(tmp_path / "t.csv", "7,x\n8,y\n", "\r", bom=True), CsvReadOptions(has_header=False))

    assert frame["column_1"].tolist() == [7, 8] and frame["column_1"].dtype == "int64"


def test_without_header_the_first_row_is_data_and_columns_get_names(tmp_path):
    path = write(tmp_path / "t.csv", "39, State-gov, ?\n50, ?, 13\n")

    frame = read_csv(path, CsvReadOptions(has_header=False, na_values=["?"], skip_initial_space=True))
    assert list(frame.columns) == ["column_1", "column_2", "column_3"]
    assert frame["column_1"].tolist() == [39, 50]
    assert frame["column_2"].tolist()[0] == "State-gov" and frame["column_2"].isna().tolist() == [False, True]
    assert frame["column_3"].isna().tolist() == [True, False] and frame["column_3"].iloc[1] == 13


def test_without_skip_initial_space_the_space_stays_and_the_marker_does_not_match(tmp_path):
    path = write(tmp_path / "t.csv", "39, State-gov, ?\n50, ?, 13\n")

    frame = read_csv(path, CsvReadOptions(has_header=False, na_values=["?"]))
    assert frame["column_2"].tolist() == [" State-gov", " ?"]  # what the file says, as pandas reads it


def test_pandas_default_markers_stay_on_next_to_extra_ones(tmp_path):
    path = write(tmp_path / "t.csv", "a,b\nNA,-\n1,\n2,n/a\n")

    frame = read_csv(path, CsvReadOptions(na_values=["-"]))
    assert frame["a"].isna().tolist() == [True, False, False]
    assert frame["b"].isna().all()


def test_column_names_name_a_headerless_file_and_rename_a_header(tmp_path):
    headerless = write(tmp_path / "a.csv", "1,x\n2,y\n")
    with_header = write(tmp_path / "b.csv", "n,s\n1,x\n2,y\n")

    named = read_csv(headerless, CsvReadOptions(has_header=False, column_names=["age", "city"]))
    assert list(named.columns) == ["age", "city"] and len(named) == 2
    renamed = read_csv(with_header, CsvReadOptions(column_names=["age", "city"]))
    assert list(renamed.columns) == ["age", "city"] and renamed["age"].tolist() == [1, 2]


@pytest.mark.parametrize("has_header", [True, False])
def test_column_names_of_the_wrong_length_name_both_counts(tmp_path, has_header):
    path = write(tmp_path / "t.csv", "a,b,c\n1,2,3\n")

    with pytest.raises(InvalidParameter, match="column_names gives 2 names but t.csv has 3 columns") as err:
        read_csv(path, CsvReadOptions(has_header=has_header, column_names=["x", "y"]))
    assert err.value.field == "column_names"


@pytest.mark.parametrize(("names", "message"), [
    (["age", "city", "age"], "repeated: age"),
    (["age", " "], "visible character"),
])
def test_repeated_or_blank_column_names_are_refused(names, message):
    with pytest.raises(ValidationError, match=message) as err:
        CsvReadOptions(column_names=names)
    assert err.value.errors()[0]["loc"] == ("column_names",)


@pytest.mark.parametrize("separator", ["\n", "a\r", '"'])
def test_a_separator_cannot_be_a_line_break_or_a_quote(separator):
    with pytest.raises(ValidationError, match="separator"):
        CsvReadOptions(separator=separator)


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_rows_with_more_fields_than_the_header_are_refused_naming_the_line(tmp_path, ending):
    """pandas would make the first column the index and shift every other one left, silently."""
    path = write(tmp_path / "t.csv", "a,b\n0,x,3\n1,y,4\n", ending)

    with pytest.raises(ParseError, match="line 2 of t.csv has 3 fields but the header names 2 columns"):
        read_csv(path, CsvReadOptions())


def test_a_longer_row_further_down_is_refused_naming_its_line(tmp_path):
    path = write(tmp_path / "t.csv", "a,b\n0,x\n1,y\n2,z,9\n")

    with pytest.raises(ParseError, match="line 4"):
        read_csv(path, CsvReadOptions())


# A bank export: every data line ends with a separator the header line lacks.
STATEMENT = "Date,Description,Amount\n" + "".join(f"2024-01-{d:02d},Coffee {d},-{d}.50,\n" for d in range(1, 29))


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_a_separator_ending_every_data_line_is_left_out_with_a_warning(tmp_path, ending):
    from nodes.csv_checks import table_warnings

    path = write(tmp_path / "statement.csv", STATEMENT, ending)
    frame = read_csv(path, CsvReadOptions())

    clean = read_csv(write(tmp_path / "clean.csv", STATEMENT.replace(",\n", "\n"), ending), CsvReadOptions())
    pd.testing.assert_frame_equal(frame, clean)  # same columns, values and types: nothing shifted
    assert frame["Amount"].tolist()[:2] == [-1.5, -2.5] and frame.index.tolist()[:2] == [0, 1]
    assert table_warnings(frame, CsvReadOptions(), lambda: "") == [{
        "code": "TRAILING_SEPARATOR",
        "message": "the data lines end with ',', one more than the header has: the empty field after the last "
                   "column was left out"}]
    page = read_csv(path, CsvReadOptions(), skip=20, nrows=3)
    assert page["Description"].tolist() == ["Coffee 21", "Coffee 22", "Coffee 23"]


def test_a_semicolon_file_with_trailing_separators_keeps_its_missing_markers(tmp_path):
    path = write(tmp_path / "t.csv", "id;score;note\n1;?;NA;\n2;3.5;;\n3;4;x;\n")
    frame = read_csv(path, CsvReadOptions(separator=";", na_values=["?"]))

    assert list(frame.columns) == ["id", "score", "note"] and frame["score"].tolist()[1:] == [3.5, 4.0]
    assert frame["score"].isna().tolist() == [True, False, False] and frame["note"].isna().tolist()[:2] == [True, True]


@pytest.mark.parametrize(("rows", "message"), [
    ("1,2,\n" * 3000 + "3,4,x\n", "line 3002 of t.csv has a value after its last column ('x')"),
    ("1,2,\n3,4,NA\n", "line 3 of t.csv has a value after its last column ('NA')"),  # a value, not a gap
    ("1,2,\n3,4,,\n", "line 3 of t.csv has 4 fields but the header names 2 columns"),
    ("1,2\n3,4,\n", "line 3 of t.csv has 3 fields but the header names 2 columns"),
])
def test_a_value_beyond_the_header_is_refused_naming_its_line_in_every_page(tmp_path, rows, message):
    path = write(tmp_path / "t.csv", "a,b\n" + rows)
    lines = rows.count("\n")

    for skip, nrows in ((0, None), (lines - 2, 5), (lines - 1, 1)):
        with pytest.raises(ParseError, match=re.escape(message)):
            read_csv(path, CsvReadOptions(), skip=skip, nrows=nrows)


@pytest.mark.parametrize(("text", "message"), [
    ("name,city\nAda,London, UK\nBob,Paris\n", "line 2 of t.csv has 3 fields but the header names 2 columns: "
                                                "check the separator and the quoting"),
    ("x,y\nr1,1,2\nr2,3,4\n", "if each line starts with a row name (as R writes them), name that column"),
    ("x,y\n" + "1,2\n" * 5000 + "3,4,5\n", "line 5002 of t.csv has 3 fields but the header names 2 columns"),
    ("a;b\n1,5;2\n3,5;4\n", "has 2 fields but the header names 1 column: check the separator and the quoting "
                             "(a value holding the separator needs double quotes), or fix that line so every row "
                             "has one field per column; the lines look split by ';'"),
])
def test_rows_wider_than_the_header_say_where_and_what_to_check(tmp_path, text, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        read_csv(write(tmp_path / "t.csv", text), CsvReadOptions())


def test_without_a_header_a_wider_line_is_compared_with_the_first(tmp_path):
    with pytest.raises(ParseError, match="line 3 of t.csv has 3 fields but the first line has 2 columns"):
        read_csv(write(tmp_path / "t.csv", "1,2\n3,4\n5,6,7\n"), CsvReadOptions(has_header=False))


def test_an_empty_first_header_name_is_a_column_of_its_own(tmp_path):
    """pandas' own index written out (``to_csv()`` with its index): the header has a field for it."""
    frame = read_csv(write(tmp_path / "t.csv", ",a,b\n0,1,2\n1,3,4\n"), CsvReadOptions())
    assert list(frame.columns) == ["Unnamed: 0", "a", "b"] and frame["a"].tolist() == [1, 3]


def test_a_page_of_rows_keeps_the_header_and_counts_rows_not_lines(tmp_path):
    path = write(tmp_path / "t.csv", QUOTED, "\r")

    page = read_csv(path, CsvReadOptions(), skip=1, nrows=1)
    assert list(page.columns) == ["id", "note", "score"] and page["id"].tolist() == [2]
    headerless = read_csv(path, CsvReadOptions(has_header=False), skip=2, nrows=5)
    assert headerless["column_1"].tolist() == [2, 3]
    assert read_csv(path, CsvReadOptions(), skip=10).empty  # past the end: no rows, no error


@pytest.mark.parametrize(("content", "message"), [("", "t.csv is empty"),
                                                   ("a,b\r", "t.csv has a header but no rows")])
def test_nothing_to_read_is_empty_data(tmp_path, content, message):
    with pytest.raises(EmptyData, match=message):
        read_csv(write(tmp_path / "t.csv", content), CsvReadOptions())


def test_a_utf16_file_read_as_utf8_says_which_encoding_to_set(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("a,b\n1,é\n".encode("utf-16"))

    with pytest.raises(ParseError, match="set encoding to utf-16") as err:
        read_csv(path, CsvReadOptions())
    assert err.value.field == "encoding"
    assert read_csv(path, CsvReadOptions(encoding="utf-16"))["b"].tolist() == ["é"]


def test_the_head_is_whole_lines_without_a_bom(tmp_path):
    path = write(tmp_path / "t.csv", "a;b\n" + "1;2\n" * 100, "\r", bom=True)

    head = read_head(path, CsvReadOptions(), max_bytes=30)
    assert head.startswith("a;b\r") and head.endswith("\r") and len(head) < 30


def test_a_file_the_system_cannot_read_is_named_without_its_folder(tmp_path):
    folder = tmp_path / "looks like a file.csv"
    folder.mkdir()
    with pytest.raises(NodeError, match="^looks like a file.csv cannot be read: Is a directory$") as err:
        read_csv(folder, CsvReadOptions())
    assert err.value.code == "FILE_NOT_READABLE" and str(tmp_path) not in err.value.message
