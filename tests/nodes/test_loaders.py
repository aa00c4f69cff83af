"""Data input nodes: csv_loader stays inside its folders and names what went wrong; samples load."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from flowza_core.errors import DatasetTooLarge, EmptyData, FileNotFound, FlowzaError, InvalidParameter, ParseError
from nodes.samples import LABELS, SAMPLES

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
    ('name,age\nAda,36\nJosé,41,extra,fields\n"unclosed\n', ParseError, "line 3 of bad.csv has 4 fields but the "
                                                                        "header names 2 columns"),
    ('name,age\nAda,36\n"unclosed\n', ParseError, "could not parse"),
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


@pytest.mark.parametrize("file_path, message", [
    ("people\x00.csv", "control characters"), ("a\nb.csv", "control characters"),
    ("tab\there.csv", "control characters"), ("x" * 300 + ".csv", "at most 255 bytes"),
    ("a/" * 600, "at most 1024 characters"), ("bad\udc80.csv", "valid string")])
def test_unusable_paths_are_an_invalid_parameter_before_anything_runs(load_csv, file_path, message):
    from flows.validation import validate_workflow

    with pytest.raises(ValidationError, match=message):
        load_csv(file_path=file_path)
    _, problems = validate_workflow({"nodes": [{"id": "load", "type": "csv_loader",
                                                "parameters": {"file_path": file_path}}]})
    assert [(p.code, p.field) for p in problems if p.severity == "error"] == [("INVALID_PARAMETER", "file_path")]


def test_a_path_the_system_cannot_open_is_an_invalid_parameter(data_dir, datasets_dir):
    from nodes.base import NodeContext
    from nodes.loaders import CsvLoaderParams, resolve_csv_path

    ctx = NodeContext(node_id="load", data_dir=data_dir, datasets_dir=datasets_dir)
    for path in ("people\x00.csv", "x" * 300 + ".csv"):
        unchecked = CsvLoaderParams.model_construct(file_path=path, dataset_id=None)  # past validation
        with pytest.raises(InvalidParameter, match="is not a usable path") as err:
            resolve_csv_path(unchecked, ctx)
        assert err.value.field == "file_path"


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

    label = LABELS[name]
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


# --- Flowza's own files and multi-user mode ----------------------------------------------------

@pytest.fixture
def home_in_data_dir(data_dir, monkeypatch):
    """FLOWZA_HOME inside the data directory, as when Flowza starts from ~ (data dir '.', home ~/.flowza),
    holding what Flowza keeps there; the MLflow database and the object store configured beside it."""
    from flowza_core.settings import get_settings

    home = data_dir / ".flowza"
    for name in ("datasets/ada-upload.csv", "logs/api.log", "store/data/abc.parquet", "flowza.db"):
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        PEOPLE.to_csv(home / name, index=False)
    (home / "secret_key").write_text("name,age\nkey,1\n")
    (data_dir / "mlflow.db").write_text("name,age\nrun,1\n")
    (data_dir / "objects").mkdir()
    PEOPLE.to_csv(data_dir / "objects" / "out.csv", index=False)
    monkeypatch.setenv("FLOWZA_HOME", str(home))
    monkeypatch.setenv("FLOWZA_MLFLOW_TRACKING_URI", f"sqlite:///{data_dir / 'mlflow.db'}")
    monkeypatch.setenv("FLOWZA_OBJECT_STORE_URL", (data_dir / "objects").as_uri())
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.mark.parametrize("file_path", [
    ".flowza/secret_key", ".flowza/datasets/ada-upload.csv", ".flowza/logs/api.log", ".flowza/flowza.db",
    ".flowza/store/data/abc.parquet", "./sub/../.flowza/secret_key", ".flowza", ".flowza/not-there-yet.csv",
    "mlflow.db", "mlflow.db-wal", "objects/out.csv"])
def test_flowza_home_and_state_inside_the_data_dir_are_never_read(load_csv, home_in_data_dir, file_path):
    with pytest.raises(InvalidParameter, match="inside Flowza's own storage") as err:
        load_csv(file_path=file_path)
    assert err.value.field == "file_path" and str(home_in_data_dir.parent) not in err.value.message


def test_a_symlink_into_flowza_home_is_refused(load_csv, data_dir, home_in_data_dir):
    (data_dir / "innocent.csv").symlink_to(home_in_data_dir / "datasets" / "ada-upload.csv")
    (data_dir / "folder").symlink_to(home_in_data_dir, target_is_directory=True)

    for file_path in ("innocent.csv", "folder/secret_key"):
        with pytest.raises(InvalidParameter, match="inside Flowza's own storage"):
            load_csv(file_path=file_path)


def test_uploads_and_other_files_still_load_when_home_is_inside_the_data_dir(load_csv, data_dir,
                                                                             home_in_data_dir, run_node):
    from nodes.base import NodeContext
    from nodes.catalog import discover

    PEOPLE.to_csv(data_dir / "people.csv", index=False)
    pd.testing.assert_frame_equal(load_csv(file_path="people.csv"), PEOPLE)
    ctx = NodeContext(node_id="load", data_dir=data_dir, datasets_dir=home_in_data_dir / "datasets")
    loader = discover()["csv_loader"]
    loaded = loader.run({}, loader.params_model(dataset_id="ada-upload"), ctx)["dataset"].frame
    pd.testing.assert_frame_equal(loaded, PEOPLE)


def test_messages_name_the_path_as_given_never_the_servers_folders(load_csv, data_dir, datasets_dir, run_node):
    PEOPLE.to_csv(data_dir / "people.csv", index=False)
    failures = []
    for call in (lambda: load_csv(file_path="nowhere.csv"), lambda: load_csv(file_path="../x.csv"),
                 lambda: load_csv(dataset_id="gone"),
                 lambda: run_node("csv_loader", file_path="people.csv", max_dataset_mb=1e-6)):
        with pytest.raises(FlowzaError) as err:
            call()
        failures.append(err.value.message)
    assert not [m for m in failures if str(data_dir.parent) in m], failures
    assert "nowhere.csv" in failures[0] and "'../x.csv'" in failures[1] and "dataset 'gone'" in failures[2]


@pytest.mark.parametrize("auth_enabled, allow, allowed", [
    ("true", None, False), ("true", "true", True), ("false", None, True), ("false", "false", False)])
def test_file_paths_are_off_in_multi_user_mode_unless_allowed(load_csv, data_dir, datasets_dir, monkeypatch,
                                                              auth_enabled, allow, allowed):
    from flowza_core.settings import get_settings

    PEOPLE.to_csv(data_dir / "people.csv", index=False)
    monkeypatch.setenv("FLOWZA_AUTH_ENABLED", auth_enabled)
    if allow is not None:
        monkeypatch.setenv("FLOWZA_ALLOW_FILE_PATHS", allow)
    get_settings.cache_clear()
    try:
        if allowed:
            pd.testing.assert_frame_equal(load_csv(file_path="people.csv"), PEOPLE)
        else:
            with pytest.raises(ValidationError, match="FLOWZA_ALLOW_FILE_PATHS=true") as err:
                load_csv(file_path="people.csv")
            assert err.value.errors()[0]["loc"] == ("file_path",)
        PEOPLE.to_csv(datasets_dir / "upload-1.csv", index=False)
        pd.testing.assert_frame_equal(load_csv(dataset_id="upload-1"), PEOPLE)  # uploads, in every mode
    finally:
        get_settings.cache_clear()

