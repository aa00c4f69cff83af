"""The object store: a local folder by default, S3 (or MinIO, moto) for ``s3://`` URLs."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.parquet as pq

from flowza_core.errors import FlowzaError

log = logging.getLogger(__name__)

def parquet_options(table: pa.Table) -> dict:
    """Parquet tables (older stores) are written for speed: no compression, dictionaries for text only."""
    text = [f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
            or pa.types.is_string_view(f.type)]
    return {"compression": "none", "write_statistics": False, "use_dictionary": text}


# Intermediate tables are written once per run and read back rarely, often a page at a time: Arrow's
# IPC file format (Feather v2), uncompressed, is Arrow's memory layout on disk, so writing it is a copy
# and reading a memory map (a page of rows touches only those rows). ``.parquet`` keys stay readable.
TABLE_SUFFIX = ".arrow"


def _write_table(table: pa.Table, sink, parquet: bool) -> None:
    if parquet:
        pq.write_table(table, sink, **parquet_options(table))
        return
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _read_table(source, parquet: bool) -> pa.Table:
    return pq.read_table(source) if parquet else pa.ipc.open_file(source).read_all()


KEPT_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


class StoreError(FlowzaError):
    code = "STORE_ERROR"


class ObjectStore(Protocol):
    url: str

    def put_bytes(self, key: str, data: bytes) -> None: ...
    def get_bytes(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def write_table(self, key: str, table: pa.Table) -> None: ...
    def read_table(self, key: str) -> pa.Table: ...
    def uri(self, key: str) -> str: ...


class LocalStore:
    """Objects as files under ``root``; writes are atomic (temp file, then rename)."""

    def __init__(self, root: Path):
        self.root = root
        self.url = root.as_uri()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise StoreError(f"object key escapes the store: {key}")
        return path

    def _atomic(self, key: str, write) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        os.close(fd)
        try:
            write(tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_bytes(self, key: str, data: bytes) -> None:
        self._atomic(key, lambda tmp: Path(tmp).write_bytes(data))

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise StoreError(f"object not found in store: {key}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def write_table(self, key: str, table: pa.Table) -> None:
        """A table as Arrow IPC (or Parquet for a ``.parquet`` key)."""
        self._atomic(key, lambda tmp: _write_table(table, tmp, key.endswith(".parquet")))

    def read_table(self, key: str) -> pa.Table:
        """A stored table; Arrow IPC files are memory-mapped, not read into memory."""
        path = self._path(key)
        try:
            return _read_table(str(path) if key.endswith(".parquet") else pa.memory_map(str(path)),
                               key.endswith(".parquet"))
        except FileNotFoundError as exc:
            raise StoreError(f"object not found in store: {key}") from exc

    def uri(self, key: str) -> str:
        return self._path(key).as_uri()


class S3Store:
    """Objects in an S3 bucket under a prefix; each put is a single atomic PUT."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None):
        import boto3

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey as exc:
            raise StoreError(f"object not found in store: {self.uri(key)}") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def write_table(self, key: str, table: pa.Table) -> None:
        sink = pa.BufferOutputStream()
        _write_table(table, sink, key.endswith(".parquet"))
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=sink.getvalue().to_pybytes())

    def read_table(self, key: str) -> pa.Table:
        return _read_table(pa.BufferReader(self.get_bytes(key)), key.endswith(".parquet"))

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def put_file(self, key: str, path: Path, content_type: str, part_bytes: int) -> str:
        """Upload a file (in parts of ``part_bytes`` above that size); returns the stored object's ETag."""
        from boto3.s3.transfer import TransferConfig

        self.client.upload_file(str(path), self.bucket, self._key(key), ExtraArgs={"ContentType": content_type},
                                Config=TransferConfig(multipart_threshold=part_bytes, multipart_chunksize=part_bytes))
        return self.version(key)[0]

    def version(self, key: str) -> tuple[str, int] | None:
        """(ETag, size) of the object, or None when there is none."""
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StoreError(f"could not read {self.uri(key)}: {exc}") from exc
        return head["ETag"], head["ContentLength"]

    def copy_version_to(self, key: str, etag: str, out) -> None:
        """Stream exactly version ``etag`` of the object into the binary file ``out`` (an error if it changed)."""
        body = self.client.get_object(Bucket=self.bucket, Key=self._key(key), IfMatch=etag)["Body"]
        shutil.copyfileobj(body, out, 2**20)


class KeptInStore:
    """``NodeContext.objects`` in a run: what nodes keep between runs, under ``kept/<node type>/<key>``.

    Keys are a node's own (a content hash, say); a read that fails is a miss, so the node builds anew.
    """

    def __init__(self, store: ObjectStore, node_type: str):
        self.store, self.prefix = store, f"kept/{node_type}"

    def _path(self, key: str) -> str:
        if not KEPT_KEY.match(key):
            raise StoreError(f"not a key for a kept object: {key!r}")
        return f"{self.prefix}/{key}"

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return self.store.get_bytes(path) if self.store.exists(path) else None
        except Exception:  # S3 errors too: a kept object only saves time
            log.warning("could not read the kept object %s; it is built anew", path, exc_info=True)
            return None

    def put(self, key: str, data: bytes) -> None:
        self.store.put_bytes(self._path(key), data)


def open_store(url: str, s3_endpoint_url: str | None = None) -> ObjectStore:
    """Open the store a URL names: ``file:///path``, a plain path, or ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise StoreError(f"object store URL {url!r} names no bucket")
        return S3Store(parsed.netloc, parsed.path, s3_endpoint_url)
    if parsed.scheme in ("", "file"):
        root = Path(parsed.path if parsed.scheme else url).expanduser()
        root.mkdir(parents=True, exist_ok=True)
        return LocalStore(root)
    raise StoreError(f"unsupported object store URL {url!r}: use file:///path or s3://bucket/prefix")
