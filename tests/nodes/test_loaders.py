"""Data input nodes: csv_loader stays inside its folders and names what went wrong; samples load."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from flowza.errors import DatasetTooLarge, EmptyData, FileNotFound, InvalidParameter, ParseError
from nodes.samples import SAMPLES

PEOPLE = pd.DataFrame({"name": ["Ada", "José", "Zoë"], "age": [36, 41, 29]})


@pytest.fixture
def load_csv(run_node):
    """``load_csv(**params)`` -> the loaded table."""

    def load(**params) -> pd.DataFrame:
        return run_node("csv_loader", **params)["dataset"].frame

    return load


def test_reads_a_csv_relative_to_the_data_dir(load_csv, data_dir):
    (data_dir / "sub").mkdir()
    PEOPLE.to_csv(data_dir / "sub" / "people.csv", index=False)

    pd.testing.assert_frame_equal(load_csv(file_path="sub/people.csv"), PEOPLE)


def test_reads_a_latin1_file_with_a_custom_separator(load_csv, data_dir):
    (data_dir / "people.csv").write_bytes(PEOPLE.to_csv(sep=";", index=False).encode("latin-1"))

    pd.testing.assert_frame_equal(load_csv(file_path="people.csv", separator=";", encoding="latin-1"), PEOPLE)


def test_latin1_file_read_as_utf8_is_a_parse_error(load_csv, data_dir):
    (data_dir / "people.csv").write_bytes(PEOPLE.to_csv(index=False).encode("latin-1"))

    with pytest.raises(ParseError, match="encoding"):
        load_csv(file_path="people.csv")


def test_missing_file_names_the_file(load_csv):
    with pytest.raises(FileNotFound, match="nowhere.csv"):
        load_csv(file_path="nowhere.csv")


@pytest.mark.parametrize("escape", ["../secret.csv", "sub/../../secret.csv", "{outside}/secret.csv"])
def test_paths_outside_the_data_dir_are_refused_unread(load_csv, data_dir, tmp_path, escape):
    outside = tmp_path / "outside"
    outside.mkdir()
    for folder in (tmp_path, outside):
        PEOPLE.to_csv(folder / "secret.csv", index=False)

    with pytest.raises(InvalidParameter, match="outside the data directory") as err:
        load_csv(file_path=escape.format(outside=outside))
    assert err.value.field == "file_path"


def test_a_symlink_pointing_outside_is_refused(load_csv, data_dir, tmp_path):
    PEOPLE.to_csv(tmp_path / "secret.csv", index=False)
    (data_dir / "innocent.csv").symlink_to(tmp_path / "secret.csv")

    with pytest.raises(InvalidParameter, match="outside the data directory"):
        load_csv(file_path="innocent.csv")


@pytest.mark.parametrize("content, error, message", [
    ("", EmptyData, "empty"),
    ("name,age\n", EmptyData, "no rows"),
    ('name,age\nAda,36\nJosé,41,extra,fields\n"unclosed\n', ParseError, "could not parse"),
])
def test_unusable_content_is_a_named_error(load_csv, data_dir, content, error, message):
    (data_dir / "bad.csv").write_text(content, encoding="utf-8")

    with pytest.raises(error, match=message):
        load_csv(file_path="bad.csv")


@pytest.mark.parametrize("encoding", ["no-such-codec", "rot13"])  # rot13 is a codec, but not a text encoding
def test_unknown_encoding_is_refused_by_the_parameters(load_csv, data_dir, encoding):
    PEOPLE.to_csv(data_dir / "people.csv", index=False)

    with pytest.raises(ValidationError, match=f"unknown encoding '{encoding}'") as err:
        load_csv(file_path="people.csv", encoding=encoding)
    assert err.value.errors()[0]["loc"] == ("encoding",)


def test_file_over_the_size_limit_is_refused(run_node, data_dir):
    pd.concat([PEOPLE] * 20).to_csv(data_dir / "people.csv", index=False)
    assert (data_dir / "people.csv").stat().st_size > 0.0001 * 2**20

    with pytest.raises(DatasetTooLarge, match="people.csv"):
        run_node("csv_loader", file_path="people.csv", max_dataset_mb=0.0001)


def test_dataset_id_reads_from_the_datasets_dir(load_csv, data_dir, datasets_dir):
    PEOPLE.to_csv(datasets_dir / "upload-1.csv", index=False)
    pd.DataFrame({"other": [1]}).to_csv(data_dir / "upload-1.csv", index=False)

    pd.testing.assert_frame_equal(load_csv(dataset_id="upload-1"), PEOPLE)


@pytest.mark.parametrize("file_path", ["people\x00.csv", "a\nb.csv", "tab\there.csv"])
def test_control_characters_in_a_path_are_an_invalid_parameter_before_anything_runs(load_csv, file_path):
    from flows.validation import validate_workflow

    with pytest.raises(ValidationError, match="control characters"):
        load_csv(file_path=file_path)
    _, problems = validate_workflow({"nodes": [{"id": "load", "type": "csv_loader",
                                                "parameters": {"file_path": file_path}}]})
    assert [(p.code, p.field) for p in problems if p.severity == "error"] == [("INVALID_PARAMETER", "file_path")]


def test_a_path_the_system_cannot_open_is_an_invalid_parameter(load_csv, data_dir, datasets_dir):
    from nodes.base import NodeContext
    from nodes.loaders import CsvLoaderParams, resolve_csv_path

    with pytest.raises(InvalidParameter, match="is not a usable path: File name too long") as err:
        load_csv(file_path="x" * 300 + ".csv")
    assert err.value.field == "file_path"
    unchecked = CsvLoaderParams.model_construct(file_path="people\x00.csv", dataset_id=None)  # past validation
    with pytest.raises(InvalidParameter, match="is not a usable path"):
        resolve_csv_path(unchecked, NodeContext(node_id="load", data_dir=data_dir, datasets_dir=datasets_dir))


@pytest.mark.parametrize("dataset_id", ["../x", "..", "a/b", "/etc/passwd", ""])
def test_dataset_id_must_be_a_plain_name(load_csv, dataset_id):
    with pytest.raises(ValidationError):
        load_csv(dataset_id=dataset_id)


@pytest.mark.parametrize("params", [{}, {"file_path": "people.csv", "dataset_id": "people"}])
def test_exactly_one_source_must_be_given(load_csv, params):
    with pytest.raises(ValidationError, match="exactly one of file_path or dataset_id"):
        load_csv(**params)


# --- sample_dataset --------------------------------------------------------------------------

@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_loads_a_table_with_its_label(run_node, name):
    frame = run_node("sample_dataset", name=name)["dataset"].frame

    label = "survived" if name == "titanic" else "target"
    assert len(frame) > 0 and label in frame.columns
    assert frame[label].notna().all()


def test_titanic_has_gaps_in_age(run_node):
    frame = run_node("sample_dataset", name="titanic")["dataset"].frame

    assert frame["age"].isna().any()


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_are_deterministic(run_node, name):
    first = run_node("sample_dataset", name=name)["dataset"].frame
    second = run_node("sample_dataset", name=name)["dataset"].frame

    pd.testing.assert_frame_equal(first, second)
    assert first is not second
