"""Uploaded CSV datasets: streamed to disk under a size limit, checked, kept as FLOWZA_HOME/datasets/<id>.csv."""

from __future__ import annotations

import codecs
import csv
import json
import logging
import math
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from api.db.base import new_id
from api.db.datasets import create_dataset, soft_delete_dataset
from api.db.models import Dataset
from flowza.errors import EmptyData, FileNotFound, FlowzaError, ParseError
from flowza.settings import get_settings

log = logging.getLogger(__name__)

SUFFIXES = {".csv", ".txt", ""}
FORM_SLACK = 2**20  # room for boundaries and small fields on top of the file in a Content-Length
FIELD_BYTES, MAX_PARTS = 4096, 16


class PayloadTooLarge(FlowzaError):
    code = "PAYLOAD_TOO_LARGE"


class UnsupportedUpload(FlowzaError):
    code = "UNSUPPORTED_MEDIA_TYPE"


def datasets_dir() -> Path:
    """Where the csv_loader looks up a ``dataset_id`` (the engine's ``datasets_dir``)."""
    return get_settings().home_dir / "datasets"


def dataset_file(dataset_id: str) -> Path:
    return datasets_dir() / f"{dataset_id}.csv"


def invalid(field_name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("body", field_name), "msg": message}])


def clean_filename(raw: str) -> str:
    """The client's file name as harmless metadata: no directories, no control characters, at most 200 chars."""
    name = re.split(r"[\\/]", unicodedata.normalize("NFC", raw))[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    stem, suffix = os.path.splitext(name or "upload.csv")
    suffix = suffix if len(suffix) <= 16 else ""
    return stem[:200 - len(suffix)] + suffix


@dataclass
class Received:
    """One streamed multipart upload: the file part in a temp file, the small fields as text."""

    out: BinaryIO
    limit: int
    filename: str | None = None
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)
    _part: dict = field(default_factory=dict)
    _parts: int = 0
    _utf8: codecs.IncrementalDecoder = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")())

    def callbacks(self) -> dict:
        return {"on_part_begin": self._begin, "on_header_field": self._header_field,
                "on_header_value": self._header_value, "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished, "on_part_data": self._data, "on_part_end": self._end}

    def _begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise invalid("file", f"too many form parts (at most {MAX_PARTS})")
        self._part = {"header": b"", "value": b"", "disposition": b"", "data": bytearray()}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._part["header"] += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._part["value"] += data[start:end]

    def _header_end(self) -> None:
        if self._part["header"].lower() == b"content-disposition":
            self._part["disposition"] = self._part["value"]
        self._part["header"] = self._part["value"] = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._part["disposition"])
        name = options.get(b"name", b"").decode("utf-8", "replace")
        self._part["name"], self._part["is_file"] = name, b"filename" in options
        if not self._part["is_file"]:
            return
        if name != "file":
            raise invalid(name or "file", "send the CSV as the form part named 'file'")
        if self.filename is not None:
            raise invalid("file", "send exactly one file")
        self.filename = clean_filename(options[b"filename"].decode("utf-8", "replace"))
        suffix = os.path.splitext(self.filename)[1].lower()
        if suffix not in SUFFIXES:
            raise UnsupportedUpload(f"'{self.filename}' is not a CSV file: upload a .csv file", field="file")

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if not self._part["is_file"]:
            if len(self._part["data"]) + len(chunk) > FIELD_BYTES:
                raise invalid(self._part["name"], f"at most {FIELD_BYTES} bytes")
            self._part["data"] += chunk
            return
        self.size += len(chunk)
        if self.size > self.limit:
            raise too_large()
        # A NUL byte or invalid UTF-8 means binary content: refuse it before storing any more of it.
        try:
            self._utf8.decode(chunk)
        except UnicodeDecodeError:
            raise UnsupportedUpload("the file is not UTF-8 text: upload a CSV file saved as UTF-8",
                                    field="file") from None
        if b"\x00" in chunk:
            raise UnsupportedUpload("the file holds binary data (NUL bytes): upload a CSV file", field="file")
        self.out.write(chunk)

    def _end(self) -> None:
        if self._part["is_file"]:
            try:
                self._utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                raise UnsupportedUpload("the file ends inside a UTF-8 character: upload a CSV file",
                                        field="file") from None
        else:
            self.fields[self._part["name"]] = self._part["data"].decode("utf-8", "replace")


def too_large() -> PayloadTooLarge:
    limit = get_settings().max_upload_mb
    return PayloadTooLarge(f"the upload is larger than the limit of {limit:g} MB (FLOWZA_MAX_UPLOAD_MB)",
                           field="file")


async def receive(request: Request, directory: Path) -> tuple[Received, Path]:
    """Stream the multipart body's file part into a temp file in ``directory``; nothing is left on error."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise UnsupportedUpload("send the CSV as multipart/form-data with a part named 'file'", field="file")
    limit = int(get_settings().max_upload_mb * 2**20)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + FORM_SLACK:
        raise too_large()  # refused before a byte of the body is read
    directory.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            received = Received(out, limit)
            parser = MultipartParser(options[b"boundary"], received.callbacks())
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
            out.flush()
            os.fsync(out.fileno())  # durable before it is renamed into place
    except FormParserError as exc:
        tmp.unlink(missing_ok=True)
        raise FlowzaError(f"the multipart body is malformed: {exc}", code="INVALID_REQUEST", field="file") from exc
    except ClientDisconnect as exc:  # nobody is left to answer; not a server error either
        tmp.unlink(missing_ok=True)
        raise FlowzaError("the client went away during the upload", code="UPLOAD_INTERRUPTED") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if received.filename is None:
        tmp.unlink(missing_ok=True)
        raise invalid("file", "Field required: send the CSV as a file part named 'file'")
    return received, tmp


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
