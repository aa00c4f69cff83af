"""Uploaded CSV datasets: checked, kept in the object store with their row (flows/uploads.py), previewed, removed.

Reading goes through nodes/csv_reading.py, so an upload and its preview see the table a csv_loader would.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from metadata_db.base import new_id
from metadata_db.datasets import create_dataset, soft_delete_dataset
from metadata_db.models import Dataset
from api.services.multipart_upload import Received, invalid, receive
from flowza_core.errors import FileNotFound, FlowzaError
from flowza_core.settings import get_settings
from flows import uploads as stored
from nodes.csv_checks import table_warnings
from nodes.csv_reading import CsvReadOptions, read_csv, read_head

log = logging.getLogger(__name__)


def read_table(path: Path, options: CsvReadOptions, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
    """The CSV (or ``limit`` rows from ``offset``) as a csv_loader with these options reads it.

    Errors name the part of the request at fault: the file, or the reading option.
    """
    try:
        return read_csv(path, options, nrows=limit, skip=offset, label="the file")
    except FlowzaError as exc:
        exc.field = exc.field or "file"
        raise


@dataclass(frozen=True)
class TableSummary:
    """What a CSV read with some options holds: row count, per-column statistics, likely reading mistakes."""

    rows: int
    columns: list[dict]
    warnings: list[dict]


def summarize(path: Path, options: CsvReadOptions) -> TableSummary:
    frame = read_table(path, options)
    return TableSummary(len(frame), describe_columns(frame),
                        table_warnings(frame, options, lambda: read_head(path, options)))


def stored_options(dataset: Dataset) -> CsvReadOptions:
    """How the dataset was read at upload."""
    return CsvReadOptions(**(dataset.read_options or {}))


def loader_node(dataset_id: str, options: CsvReadOptions) -> dict:
    """A csv_loader reading the dataset as ``options`` say (only the options that differ from the defaults)."""
    return {"type": "csv_loader", "parameters": {"dataset_id": dataset_id} | options.model_dump(exclude_defaults=True)}


def _number(value) -> int | float | None:
    value = value.item() if hasattr(value, "item") else value
    return value if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)) else None


def describe_columns(frame: pd.DataFrame) -> list[dict]:
    """Per column: name, dtype, null and unique counts; min, max and mean of numbers (for column pickers)."""
    columns = []
    for name, column in frame.items():
        info = {"name": str(name), "dtype": str(column.dtype), "null_count": int(column.isna().sum()),
                "unique_count": int(column.nunique())}
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            info |= {"min": _number(column.min()), "max": _number(column.max()), "mean": _number(column.mean())}
        columns.append(info)
    return columns


def _keep(session: Session, received: Received, tmp: Path, owner_id: str | None,
          options: CsvReadOptions) -> tuple[Dataset, list[dict]]:
    name = " ".join(received.fields.get("name", "").split())
    if len(name) > 300:
        raise invalid("name", "at most 300 characters")
    if "\x00" in name:  # PostgreSQL cannot store it
        raise invalid("name", "a name cannot hold a NUL character")
    summary = summarize(tmp, options)
    dataset_id, store, home = new_id(), stored.settings_store(), get_settings().home_dir
    dataset = create_dataset(session, owner_id=owner_id, name=name or Path(received.filename).stem or "upload",
                             filename=received.filename, path=store.uri(stored.upload_key(dataset_id)),
                             size_bytes=received.size, rows=summary.rows, columns=summary.columns,
                             dataset_id=dataset_id, read_options=options.model_dump(exclude_defaults=True))
    try:
        stored.keep(store, dataset_id, tmp, home)
        session.commit()  # here, not after the response: a failed commit must take the file with it
    except BaseException:
        try:
            stored.discard(store, dataset_id, home)
        except Exception:  # the store is unreachable: the error that matters is the one above
            log.warning("could not remove the file of failed upload %s", dataset_id, exc_info=True)
        raise
    log.info("stored dataset %s (%d rows, %d bytes, %d warnings)", dataset_id, summary.rows, received.size,
             len(summary.warnings))
    return dataset, summary.warnings


async def store_upload(request: Request, session: Session, owner_id: str | None,
                       options: CsvReadOptions) -> tuple[Dataset, list[dict]]:
    """Receive, check and keep an uploaded CSV: either the file and its row both exist, or neither.

    Returns the dataset and the warnings reading it with ``options`` raised (``{code, message, fix}``).
    """
    staging = stored.staging_dir(stored.settings_store(), get_settings().home_dir)
    received, tmp = await receive(request, staging, options.encoding)
    try:
        return await run_in_threadpool(_keep, session, received, tmp, owner_id, options)
    finally:
        tmp.unlink(missing_ok=True)  # already moved away when kept


def stored_file(dataset: Dataset) -> Path:
    """The dataset's CSV on this machine (fetched from the object store when it is remote); FILE_NOT_FOUND if
    someone removed it behind Flowza's back."""
    path = stored.default_uploads()(dataset.id)
    if path is None:  # where it should be goes to the log only: users see no server paths
        log.error("the file of dataset %s is missing: %s", dataset.id, dataset.path)
        raise FileNotFound(f"the file of dataset '{dataset.name}' ({dataset.id}) is missing from Flowza's storage: "
                           f"upload it again")
    return path


def preview_summary(dataset: Dataset, options: CsvReadOptions) -> TableSummary:
    """The dataset's summary as read with ``options``; kept while the file is unchanged, so paging is cheap."""
    path = stored_file(dataset)
    stat = path.stat()
    return _summary_of(str(path), stat.st_mtime_ns, stat.st_size, options.model_dump_json())


@lru_cache(maxsize=16)
def _summary_of(path: str, _mtime_ns: int, _size: int, options_json: str) -> TableSummary:
    return summarize(Path(path), CsvReadOptions.model_validate_json(options_json))


def read_rows(dataset: Dataset, offset: int, limit: int, options: CsvReadOptions, total_rows: int) -> list[dict]:
    """One page of the dataset's rows, read with ``options``, as JSON records."""
    if offset >= total_rows:
        return []
    frame = read_table(stored_file(dataset), options, offset, limit)
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


def remove(session: Session, dataset: Dataset) -> None:
    """Hide the row, then delete the file: a crash in between leaves an orphan file, never a row without one."""
    soft_delete_dataset(session, dataset.id)
    session.commit()
    try:
        stored.discard(stored.settings_store(), dataset.id, get_settings().home_dir)
    except Exception:  # S3 errors too: the row is gone, which is what users see
        log.warning("dataset %s deleted but its file could not be removed", dataset.id, exc_info=True)
