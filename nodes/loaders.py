"""Data input nodes: read a table from a file or a shipped sample."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import ConfigDict, Field, model_validator

from flowza.errors import DatasetTooLarge, EmptyData, FileNotFound, InvalidParameter, ParseError
from nodes.base import NodeContext, Params, node
from nodes.ports import Dataset
from nodes.samples import SAMPLES, load_sample

DATASET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class CsvLoaderParams(Params):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "anyOf": [{"required": ["file_path"]}, {"required": ["dataset_id"]}]})

    file_path: str | None = Field(None, title="File path",
                                  description="CSV path, relative to the data directory (FLOWZA_DATA_DIR).")
    dataset_id: str | None = Field(None, title="Dataset", description="An uploaded dataset, instead of a path.",
                                   json_schema_extra={"dataset_ref": True})
    separator: str = Field(",", min_length=1, max_length=4, title="Separator", json_schema_extra={"advanced": True})
    encoding: str = Field("utf-8", title="Encoding", json_schema_extra={"advanced": True})

    @model_validator(mode="after")
    def _one_source(self):
        if bool(self.file_path) == bool(self.dataset_id):
            raise ValueError("give exactly one of file_path or dataset_id")
        if self.dataset_id and not DATASET_ID.match(self.dataset_id):
            raise ValueError("dataset_id may hold only letters, digits, '.', '_' and '-'")
        return self


def resolve_csv_path(params: CsvLoaderParams, ctx: NodeContext) -> Path:
    """The file a csv_loader reads; never outside the data directory or the uploads folder."""
    if params.dataset_id:
        root, name, field = ctx.datasets_dir.resolve(), f"{params.dataset_id}.csv", "dataset_id"
    else:
        root, name, field = ctx.data_dir.resolve(), params.file_path, "file_path"
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise InvalidParameter(f"{field} '{name}' points outside the data directory {root}; "
                               f"put the file inside it or set FLOWZA_DATA_DIR", field=field)
    if not path.is_file():
        raise FileNotFound(f"file not found: {name} (looked in {root})", field=field)
    size_mb = path.stat().st_size / 2**20
    if size_mb > ctx.max_dataset_mb:
        raise DatasetTooLarge(f"{name} is {size_mb:.0f} MB; the limit is {ctx.max_dataset_mb:g} MB "
                              f"(FLOWZA_MAX_DATASET_MB)", field=field)
    return path


def csv_fingerprint(params: CsvLoaderParams, ctx: NodeContext) -> str:
    """Cache salt: the file's content hash, so an edited file is read again."""
    with open(resolve_csv_path(params, ctx), "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


@node(category="data input", cache_salt=csv_fingerprint)
def csv_loader(params: CsvLoaderParams, ctx: NodeContext) -> Dataset:
    """Load a CSV file (a path under the data directory, or an uploaded dataset) as a table."""
    path = resolve_csv_path(params, ctx)
    try:
        frame = pd.read_csv(path, sep=params.separator, encoding=params.encoding, nrows=ctx.sample_rows)
    except pd.errors.EmptyDataError as exc:
        raise EmptyData(f"{path.name} is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error, ValueError) as exc:
        raise ParseError(f"could not parse {path.name}: {str(exc).splitlines()[0][:300]}; "
                         f"check the separator and encoding") from exc
    except LookupError as exc:
        raise InvalidParameter(f"unknown encoding '{params.encoding}'", field="encoding") from exc
    if frame.empty:
        raise EmptyData(f"{path.name} has a header but no rows")
    return Dataset(frame.reset_index(drop=True))


class SampleDatasetParams(Params):
    name: Literal[tuple(SAMPLES)] = Field("iris", title="Dataset",  # type: ignore[valid-type]
                                          description="A dataset shipped with Flowza; the label column is "
                                                      "'target' (titanic: 'Survived').")


@node(category="data input")
def sample_dataset(params: SampleDatasetParams) -> Dataset:
    """Load a showcase dataset shipped with Flowza (nothing is downloaded)."""
    return Dataset(load_sample(params.name))
