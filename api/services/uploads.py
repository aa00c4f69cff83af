"""Uploaded CSV datasets: checked, kept as FLOWZA_HOME/datasets/<id>.csv with their row, previewed, removed."""

from __future__ import annotations

import csv
import json
import logging
import math
import os
from pathlib import Path

import pandas as pd
from fastapi import Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.db.base import new_id
from api.db.datasets import create_dataset, soft_delete_dataset
from api.db.models import Dataset
from api.services.multipart_upload import Received, invalid, receive
from flowza.errors import EmptyData, FileNotFound, ParseError
from flowza.settings import get_settings

log = logging.getLogger(__name__)


def datasets_dir() -> Path:
    """Where the csv_loader looks up a ``dataset_id`` (the engine's ``datasets_dir``)."""
    return get_settings().home_dir / "datasets"


def dataset_file(dataset_id: str) -> Path:
    return datasets_dir() / f"{dataset_id}.csv"


def read_table(path: Path) -> pd.DataFrame:
    """The whole CSV as the csv_loader will read it; a header and at least one row, else a clear error."""
    try:
        frame = pd.read_csv(path, encoding="utf-8")
    except pd.errors.EmptyDataError as exc:
        raise EmptyData("the file is empty: a CSV needs a header line and at least one row", field="file") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error, ValueError) as exc:
        raise ParseError(f"the file is not a readable CSV: {str(exc).splitlines()[0][:300]}", field="file") from exc
    if frame.empty:
        raise EmptyData("the file has a header but no rows", field="file")
    return frame


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


def _keep(session: Session, received: Received, tmp: Path, owner_id: str | None) -> Dataset:
    name = " ".join(received.fields.get("name", "").split())
    if len(name) > 300:
        raise invalid("name", "at most 300 characters")
    frame = read_table(tmp)
    dataset_id = new_id()
    final = tmp.parent / f"{dataset_id}.csv"
    dataset = create_dataset(session, owner_id=owner_id, name=name or Path(received.filename).stem or "upload",
                             filename=received.filename, path=str(final), size_bytes=received.size,
                             rows=len(frame), columns=describe_columns(frame), dataset_id=dataset_id)
    os.replace(tmp, final)
    try:
        session.commit()  # here, not after the response: a failed commit must take the file with it
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    log.info("stored dataset %s (%d rows, %d bytes)", dataset_id, len(frame), received.size)
    return dataset


async def store_upload(request: Request, session: Session, owner_id: str | None) -> Dataset:
    """Receive, check and keep an uploaded CSV: either the file and its row both exist, or neither."""
    received, tmp = await receive(request, datasets_dir())
    try:
        return await run_in_threadpool(_keep, session, received, tmp, owner_id)
    finally:
        tmp.unlink(missing_ok=True)  # already renamed away when kept


def stored_file(dataset: Dataset) -> Path:
    """The dataset's CSV on disk; FILE_NOT_FOUND if someone removed it behind Flowza's back."""
    path = dataset_file(dataset.id)
    if not path.is_file():
        raise FileNotFound(f"the file of dataset '{dataset.id}' is missing from {path.parent}")
    return path


def read_rows(dataset: Dataset, offset: int, limit: int) -> list[dict]:
    """One page of the dataset's rows as JSON records."""
    path = stored_file(dataset)
    if offset >= dataset.rows:
        return []
    frame = pd.read_csv(path, skiprows=range(1, offset + 1), nrows=limit)
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


def remove(session: Session, dataset: Dataset) -> None:
    """Hide the row, then delete the file: a crash in between leaves an orphan file, never a row without one."""
    soft_delete_dataset(session, dataset.id)
    session.commit()
    try:
        dataset_file(dataset.id).unlink(missing_ok=True)
    except OSError:
        log.warning("dataset %s deleted but its file could not be removed", dataset.id, exc_info=True)
