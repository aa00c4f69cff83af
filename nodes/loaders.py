"""Data input nodes: read a table from a file or a shipped sample.

A ``file_path`` reads the server's disk, so it stays inside the data directory and out of Flowza's own
files, and in multi-user mode it is off unless an administrator turns it on (FLOWZA_ALLOW_FILE_PATHS):
users then read only the datasets they uploaded (``dataset_id``, whose owner the API checks).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from flowza_core.errors import DatasetTooLarge, FileNotFound, InvalidParameter
from flowza_core.settings import get_settings
from flowza_core.state_paths import is_state_path
from nodes.base import NodeContext, Params, node
from nodes.csv_checks import table_warnings
from nodes.digests import file_sha256
from nodes.csv_reading import CsvReadOptions, read_csv, read_head
from nodes.ports import Dataset
from nodes.samples import SAMPLES, load_sample

DATASET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
MAX_NAME_BYTES = 255  # of one folder or file name: the limit of Linux, macOS and Windows file systems


def file_paths_allowed() -> bool:
    """FLOWZA_ALLOW_FILE_PATHS, by default on in single-user mode only."""
    settings = get_settings()
    return settings.allow_file_paths if settings.allow_file_paths is not None else not settings.auth_enabled


def usable_path(cls, value: str | None) -> str | None:
    """A ``file_path`` validator: a path the system can open, where paths are allowed at all."""
    if not value:
        return value
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("a path cannot hold NUL bytes, line breaks or other control characters")
    if max(len(part.encode()) for part in PurePosixPath(value.replace("\\", "/")).parts) > MAX_NAME_BYTES:
        raise ValueError(f"a folder or file name in a path may be at most {MAX_NAME_BYTES} bytes long")
    if not file_paths_allowed():
        raise ValueError(f"reading files by path is off on this server (multi-user mode): {cls.PATHS_OFF_HINT}, "
                         f"or ask an administrator to set FLOWZA_ALLOW_FILE_PATHS=true")
    return value


class CsvSource(Params):
    """Where a csv_loader reads from: a path under the data directory, or an uploaded dataset."""

    file_path: str | None = Field(None, max_length=1024, title="File path",
                                  description="CSV path, relative to the data directory (FLOWZA_DATA_DIR).")
    dataset_id: str | None = Field(None, title="Dataset", description="An uploaded dataset, instead of a path.",
                                   json_schema_extra={"dataset_ref": True})

    PATHS_OFF_HINT: ClassVar[str] = "upload the file and use its dataset_id"
    _usable_path = field_validator("file_path")(usable_path)


class CsvLoaderParams(CsvReadOptions, CsvSource):  # this base order puts the source fields first in forms
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "anyOf": [{"required": ["file_path"]}, {"required": ["dataset_id"]}]})

    @model_validator(mode="after")
    def _one_source(self):
        if bool(self.file_path) == bool(self.dataset_id):
            raise ValueError("give exactly one of file_path or dataset_id")
        if self.dataset_id and not DATASET_ID.match(self.dataset_id):
            raise ValueError("dataset_id may hold only letters, digits, '.', '_' and '-'")
        return self


def resolve_csv_path(params: CsvLoaderParams, ctx: NodeContext) -> Path:
    """The file a csv_loader reads: inside the data directory and out of Flowza's own files, or an upload.

    Messages name the path as the user gave it, never where the server keeps its folders.
    """
    if params.dataset_id:
        return _upload_path(params.dataset_id, ctx)
    root, name, field = ctx.data_dir.resolve(), params.file_path, "file_path"
    where = f"file_path '{name}'"
    try:
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise InvalidParameter(f"{where} points outside the data directory (FLOWZA_DATA_DIR): "
                                   f"give a path relative to it, without '..'", field=field)
        if is_state_path(path, ctx.state_paths):
            raise InvalidParameter(f"{where} is inside Flowza's own storage (FLOWZA_HOME: uploads, logs, keys, "
                                   f"databases), which a csv_loader never reads: upload the file instead", field=field)
        if not path.is_file():
            raise FileNotFound(f"file not found: {where} names no file in the data directory", field=field)
        size_mb = path.stat().st_size / 2**20
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte: not a path the system can open
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidParameter(f"{field} '{name[:200]!s}' is not a usable path: {reason}", field=field) from exc
    return _within_limit(path, size_mb, where, field, ctx)


def _upload_path(dataset_id: str, ctx: NodeContext) -> Path:
    """An uploaded dataset's file on this machine (the engine fetches it from the object store)."""
    where = f"dataset '{dataset_id}'"
    path = ctx.upload_file(dataset_id)
    if path is None:
        raise FileNotFound(f"{where} has no file: it was deleted, or never uploaded here", field="dataset_id")
    return _within_limit(path, path.stat().st_size / 2**20, where, "dataset_id", ctx)


def _within_limit(path: Path, size_mb: float, where: str, field: str, ctx: NodeContext) -> Path:
    if size_mb > ctx.max_dataset_mb:
        raise DatasetTooLarge(f"{where} is {size_mb:.0f} MB; the limit is {ctx.max_dataset_mb:g} MB "
                              f"(FLOWZA_MAX_DATASET_MB)", field=field)
    return path


def csv_fingerprint(params: CsvLoaderParams, ctx: NodeContext) -> str:
    """Cache salt: the file's content hash, so an edited file is read again."""
    return file_sha256(resolve_csv_path(params, ctx))


@node(category="data input", version=2, cache_salt=csv_fingerprint)
def csv_loader(params: CsvLoaderParams, ctx: NodeContext) -> Dataset:
    """Load a CSV file (a path under the data directory, or an uploaded dataset) as a table."""
    path = resolve_csv_path(params, ctx)
    frame = read_csv(path, params, nrows=ctx.sample_rows)
    for warning in table_warnings(frame, params, lambda: read_head(path, params)):
        ctx.warn(**warning)
    frame.attrs.clear()  # notes on how the file was read, for the warnings above; not part of the table
    return Dataset(frame)


class SampleDatasetParams(Params):
    name: Literal[tuple(SAMPLES)] = Field("iris", title="Dataset",  # type: ignore[valid-type]
                                          description="A dataset shipped with Flowza; the label column is "
                                                      "'target' (titanic: 'survived'; drop its 'alive', the "
                                                      "same label in words; housing: 'price').")


@node(category="data input")
def sample_dataset(params: SampleDatasetParams) -> Dataset:
    """Load a showcase dataset shipped with Flowza (nothing is downloaded)."""
    return Dataset(load_sample(params.name))
