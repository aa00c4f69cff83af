"""S3 nodes: read CSV or Parquet objects from a bucket as a table, write a table as one object.

Credentials come from a named ``s3`` connection (with its endpoint for an S3-compatible store such as MinIO),
or, in single-user mode only, from boto3's default chain and FLOWZA_S3_ENDPOINT_URL: a multi-user server never
lends its own credentials to a workflow. A loader's cache salt is its objects' keys and ETags, so an unchanged
object is reused and a changed one read again. A writer serializes the whole table first and sends it in one
PutObject, which S3 applies whole or not at all: a failure leaves no partial object. Without ``overwrite`` the
put is conditional (If-None-Match), so an object that appears meanwhile is not replaced either.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import urlsplit

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ConfigDict, Field, field_validator, model_validator

from flowza_core.errors import DatasetTooLarge, EmptyData, InvalidData, InvalidParameter, NodeError, ParseError
from nodes.base import CONNECTION_NAME, NodeContext, Params, always_run, node
from nodes.csv_checks import table_warnings
from nodes.csv_reading import CsvReadOptions, read_csv, read_head
from nodes.ports import Dataset, Json
from nodes.s3_client import NOT_FOUND, Bucket, S3Error, bucket_exists, open_bucket, s3_errors

log = logging.getLogger(__name__)

BUCKET_NAME = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
MAX_OBJECTS = 1000  # objects under a prefix read into one table
CHUNK_BYTES = 2**20
def _usable_key(value: str | None) -> str | None:
    if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("an S3 key here cannot hold line breaks or other control characters")
    return value


def _format(chosen: str, key: str) -> str:
    """The format an object is read or written in: ``chosen``, or by the key's extension."""
    if chosen != "auto":
        return chosen
    found = FORMATS.get(PurePosixPath(key).suffix.lower())
    if found is None:
        raise ValueError(f"key '{key[:200]}' does not end in .csv or .parquet: set format to csv or parquet")
    return found


class S3Place(Params):
    """Which store and bucket a node reaches, and with whose credentials."""

    connection: str | None = Field(None, pattern=CONNECTION_NAME, title="Connection",
                                   description="Name of an s3 connection (its keys, endpoint and default bucket). "
                                               "Without one, the server's own S3 credentials are used (single-user "
                                               "mode only).",
                                   json_schema_extra={"connection_kind": "s3"})
    bucket: str | None = Field(None, pattern=BUCKET_NAME, title="Bucket",
                               description="Default: the connection's bucket.")
    endpoint_url: str | None = Field(None, max_length=2048, title="Endpoint URL",
                                     description="An S3-compatible store's address (MinIO…), instead of the "
                                                 "connection's (or AWS).",
                                     json_schema_extra={"advanced": True})

    @field_validator("endpoint_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
            raise ValueError("must be an http:// or https:// URL naming a host")
        return value or None


class S3Objects(S3Place):
    key: str | None = Field(None, min_length=1, max_length=1024, title="Key",
                            description="One object's key, e.g. sales/2024.csv.")
    prefix: str | None = Field(None, max_length=1024, title="Prefix",
                               description="Instead of a key: every object whose key starts with this (of the "
                                           "format, by extension), in key order, as one table.")
    format: Literal["auto", "csv", "parquet"] = Field("auto", title="Format",
                                                      description="auto: by the key's extension (.csv, .parquet).")

    _keys = field_validator("key", "prefix")(_usable_key)


class S3LoaderParams(CsvReadOptions, S3Objects):  # this base order puts the source fields first in forms
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "anyOf": [{"required": ["key"]}, {"required": ["prefix"]}]})

    @model_validator(mode="after")
    def _one_source(self):
        if (self.key is None) == (self.prefix is None):
            raise ValueError("give exactly one of key (one object) or prefix (every object under it)")
        if self.key is not None:
            _format(self.format, self.key)
        return self


class S3WriterParams(S3Place):
    key: str = Field(..., min_length=1, max_length=1024, title="Key",
                     description="The object to write, e.g. results/scores.parquet.")
    format: Literal["auto", "csv", "parquet"] = Field("auto", title="Format",
                                                      description="auto: by the key's extension (.csv, .parquet).")
    overwrite: bool = Field(False, title="Overwrite",
                            description="Replace an object already at key; off: an existing object is an error.")

    _key = field_validator("key")(_usable_key)

    @model_validator(mode="after")
    def _known_format(self):
        if self.key.endswith("/"):
            raise ValueError("key ends with '/', which names a folder: give the object's name")
        _format(self.format, self.key)
        return self


# --- s3_loader -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    etag: str
    format: str


def _objects(params: S3LoaderParams, bucket: Bucket, ctx: NodeContext) -> list[S3Object]:
    """The objects the loader reads, in key order, each with its size and ETag; refused when too large."""
    if params.key is not None:
        with s3_errors(bucket, params.key):
            head = bucket.client.head_object(Bucket=bucket.name, Key=params.key)
        if "ETag" not in head:  # every S3 API gives one; a web page does not
            raise S3Error(f"{bucket.shown} did not answer as an S3 API (no ETag for s3://{bucket.name}/{params.key}): "
                          f"check endpoint_url", field="endpoint_url")
        objects = [S3Object(params.key, head["ContentLength"], head["ETag"], _format(params.format, params.key))]
    else:
        objects = []
        with s3_errors(bucket, params.prefix):
            for page in bucket.client.get_paginator("list_objects_v2").paginate(Bucket=bucket.name,
                                                                               Prefix=params.prefix):
                for item in page.get("Contents", []):
                    kind = FORMATS.get(PurePosixPath(item["Key"]).suffix.lower())
                    if kind and params.format in ("auto", kind) and not item["Key"].endswith("/"):
                        objects.append(S3Object(item["Key"], item["Size"], item["ETag"], kind))
                if len(objects) > MAX_OBJECTS:
                    raise InvalidParameter(f"more than {MAX_OBJECTS} objects under s3://{bucket.name}/"
                                           f"{params.prefix}: give a longer prefix", field="prefix")
        which = {"auto": "CSV or Parquet", "csv": "CSV", "parquet": "Parquet"}[params.format]
        if not objects:
            raise S3Error(f"no {which} objects (.csv, .parquet) under s3://{bucket.name}/{params.prefix} at "
                          f"{bucket.shown}: check the prefix", code="S3_NOT_FOUND", field="prefix")
        if len({o.format for o in objects}) > 1:
            raise InvalidParameter(f"s3://{bucket.name}/{params.prefix} holds both CSV and Parquet objects: set "
                                   f"format to read one kind", field="format")
        objects.sort(key=lambda o: o.key)
    size_mb = sum(o.size for o in objects) / 2**20
    if size_mb > ctx.max_dataset_mb:
        where = f"s3://{bucket.name}/{params.key}" if params.key is not None else \
            f"the {len(objects)} objects under s3://{bucket.name}/{params.prefix}"
        raise DatasetTooLarge(f"{where} {'is' if params.key is not None else 'are'} {size_mb:.1f} MB; the limit is "
                              f"{ctx.max_dataset_mb:g} MB (FLOWZA_MAX_DATASET_MB)",
                              field="key" if params.key is not None else "prefix")
    return objects


def s3_fingerprint(params: S3LoaderParams, ctx: NodeContext) -> str:
    """Cache salt: the objects' keys and ETags, so a changed (or added) object is read again."""
    bucket = open_bucket(params, ctx)
    listing = "\n".join(f"{o.key}\t{o.etag}\t{o.size}" for o in _objects(params, bucket, ctx))
    return "s3:" + hashlib.sha256(f"{bucket.shown}\n{bucket.name}\n{listing}".encode()).hexdigest()


def _download(bucket: Bucket, obj: S3Object, path: Path, limit_mb: float) -> None:
    """The object's bytes into ``path``; only the version listed (its ETag), and never more than the limit."""
    changed = f"s3://{bucket.name}/{obj.key} changed while it was read: run again"
    with s3_errors(bucket, obj.key, precondition=changed), open(path, "wb") as fh:
        body = bucket.client.get_object(Bucket=bucket.name, Key=obj.key, IfMatch=obj.etag)["Body"]
        for chunk in body.iter_chunks(CHUNK_BYTES):
            if fh.tell() + len(chunk) > limit_mb * 2**20:
                raise DatasetTooLarge(f"s3://{bucket.name}/{obj.key} is larger than the limit of {limit_mb:g} MB "
                                      f"(FLOWZA_MAX_DATASET_MB)", field="key")
            fh.write(chunk)


def _read(bucket: Bucket, obj: S3Object, params: S3LoaderParams, path: Path, ctx: NodeContext,
          nrows: int | None, first: bool) -> pd.DataFrame:
    label = f"s3://{bucket.name}/{obj.key}"
    if obj.format == "csv":
        frame = read_csv(path, params, nrows=nrows, label=label)
        if first:
            for warning in table_warnings(frame, params, lambda: read_head(path, params)):
                ctx.warn(**warning)
        frame.attrs.clear()  # notes on how the file was read, for the warnings above; not part of the table
        return frame
    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise ParseError(f"{label} is not a readable Parquet file ({str(exc).splitlines()[0][:200]})"
                         f"{'' if params.format == 'parquet' else '; if it is CSV, set format to csv'}",
                         field="format") from None
    if frame.empty:  # a prefix's empty parts are skipped
        raise EmptyData(f"{label} has no rows")
    return frame.head(nrows) if nrows else frame


def _concatenated(parts: list[tuple[str, pd.DataFrame]], bucket: str) -> pd.DataFrame:
    """The parts as one table, in the first part's column order; parts with other columns are refused."""
    first_key, first = parts[0]
    columns = list(first.columns)
    for key, frame in parts[1:]:
        if set(frame.columns) != set(columns) or len(frame.columns) != len(columns):
            missing = [c for c in columns if c not in frame.columns]
            extra = [c for c in frame.columns if c not in columns]
            raise InvalidData(f"s3://{bucket}/{key} has other columns than s3://{bucket}/{first_key}"
                              f"{f' (missing: {missing[:10]})' if missing else ''}"
                              f"{f' (not in the first: {extra[:10]})' if extra else ''}: every object under the "
                              f"prefix must have the same columns; narrow the prefix", field="prefix")
    return pd.concat([frame[columns] for _, frame in parts], ignore_index=True) if len(parts) > 1 else first


@node(category="data input", cache_salt=s3_fingerprint)
def s3_loader(params: S3LoaderParams, ctx: NodeContext) -> Dataset:
    """Load a CSV or Parquet object from S3 (or every such object under a prefix, joined) as a table."""
    bucket = open_bucket(params, ctx)
    objects = _objects(params, bucket, ctx)
    parts, rows = [], 0
    with tempfile.TemporaryDirectory(prefix="flowza-s3-") as folder:
        for n, obj in enumerate(objects):
            path = Path(folder) / f"{n}.{obj.format}"
            _download(bucket, obj, path, ctx.max_dataset_mb)
            nrows = ctx.sample_rows - rows if ctx.sample_rows else None
            try:
                frame = _read(bucket, obj, params, path, ctx, nrows, not parts)
            except EmptyData:
                if params.key is not None:
                    raise
                log.info("s3://%s/%s has no rows: skipped", bucket.name, obj.key)
                continue
            finally:
                path.unlink(missing_ok=True)
            parts.append((obj.key, frame))
            rows += len(frame)
            if ctx.sample_rows and rows >= ctx.sample_rows:
                break
    if not parts:
        raise EmptyData(f"the objects under s3://{bucket.name}/{params.prefix} have no rows")
    ctx.logger.info("read %d object(s) from s3://%s (%d rows)", len(parts), bucket.name, rows)
    return Dataset(_concatenated(parts, bucket.name))


# --- s3_writer -----------------------------------------------------------------------------------------------------

def _serialized(frame: pd.DataFrame, fmt: str) -> bytes:
    """The whole object's bytes, made before anything is sent."""
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        reason = "; ".join(str(a) for a in reversed(exc.args)) if exc.args else type(exc).__name__
        raise InvalidData(f"the table cannot be written as Parquet ({reason[:300]}): give that column one type "
                          f"(e.g. convert it to text), or write CSV", field="format") from None
    return sink.getvalue().to_pybytes()


@node(category="output", cache_salt=always_run)
def s3_writer(dataset: Dataset, params: S3WriterParams, ctx: NodeContext) -> Json:
    """Write the table to one S3 object (CSV or Parquet), all at once: a failure leaves no partial object."""
    if ctx.sample_rows:
        raise NodeError("s3_writer does not write while previewing a sample: run the workflow", code="PREVIEW_ONLY")
    fmt = _format(params.format, params.key)
    bucket = open_bucket(params, ctx)
    where = f"s3://{bucket.name}/{params.key}"
    exists = f"{where} already exists: set overwrite to replace it, or choose another key"
    if not params.overwrite:
        with s3_errors(bucket, params.key):
            try:
                bucket.client.head_object(Bucket=bucket.name, Key=params.key)
                raise S3Error(exists, code="S3_OBJECT_EXISTS", field="key")
            except bucket.client.exceptions.ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in NOT_FOUND or not bucket_exists(bucket):
                    raise
    body = _serialized(dataset.frame, fmt)
    condition = {} if params.overwrite else {"IfNoneMatch": "*"}  # one that appeared since is not replaced
    with s3_errors(bucket, params.key, precondition=exists):
        bucket.client.put_object(Bucket=bucket.name, Key=params.key, Body=body, ContentType=CONTENT_TYPES[fmt],
                                **condition)
    ctx.logger.info("wrote %d rows to %s (%s, %d bytes)", len(dataset.frame), where, fmt, len(body))
    return Json({"bucket": bucket.name, "key": params.key, "rows": len(dataset.frame), "bytes": len(body),
                 "format": fmt})
