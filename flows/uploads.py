"""Uploaded datasets in the object store (``uploads/<id>.csv``), readable from any machine.

An upload is put into the store only once it has been received whole and checked, in one atomic step (a
rename in a local store, a single PUT or a completed multipart upload in S3), so no reader ever sees half a
file. Readers need a local file (CSV readers seek and re-read): a local store's file is read in place; an S3
object is copied once into this machine's cache (FLOWZA_HOME/cache/uploads), under a name holding its ETag,
and every use checks the object's size and ETag first, so a deleted upload is never read from a stale copy.

Uploads made before they moved into the store sit in FLOWZA_HOME/datasets/<id>.csv; the first use of one
moves it into the store.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from flowza_core.settings import get_settings
from flows.store import LocalStore, ObjectStore, S3Store, StoreError, open_store

log = logging.getLogger(__name__)

PREFIX = "uploads"
MULTIPART_BYTES = 64 * 2**20  # larger uploads go to S3 in parts of this size (one PUT holds at most 5 GB)


def upload_key(dataset_id: str) -> str:
    return f"{PREFIX}/{dataset_id}.csv"


def cache_dir(home: Path) -> Path:
    return home / "cache" / PREFIX


def legacy_file(home: Path, dataset_id: str) -> Path:
    """Where an upload lived before uploads moved into the object store."""
    return home / "datasets" / f"{dataset_id}.csv"


def staging_dir(store: ObjectStore, home: Path) -> Path:
    """Where an upload is received: beside its final place in a local store (so keeping it is a rename),
    else beside this machine's cached copies (so the checked file becomes the cached copy by a rename)."""
    return store.root / PREFIX if isinstance(store, LocalStore) else cache_dir(home)


def location(store: ObjectStore, dataset_id: str) -> str:
    """Where the upload is, for people and scripts: a path in a local store, an ``s3://`` URI otherwise."""
    key = upload_key(dataset_id)
    return str(store.root / key) if isinstance(store, LocalStore) else store.uri(key)


def keep(store: ObjectStore, dataset_id: str, received: Path, home: Path) -> None:
    """Put a received, checked file into the store as the upload ``dataset_id``.

    ``received`` is consumed: renamed into a local store, or, once in S3, into this machine's cache.
    """
    key = upload_key(dataset_id)
    if isinstance(store, LocalStore):
        final = store.root / key
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(received, final)
        return
    etag = store.put_file(key, received, "text/csv", MULTIPART_BYTES)
    cached = _cached_name(home, dataset_id, etag)
    cached.parent.mkdir(parents=True, exist_ok=True)
    os.replace(received, cached)


def discard(store: ObjectStore, dataset_id: str, home: Path) -> None:
    """Delete the upload from the store and from this machine's cache."""
    store.delete(upload_key(dataset_id))
    _drop_cached(home, dataset_id)


class UploadFiles:
    """``NodeContext.uploads``: an upload's file on this machine, or None when there is no such upload."""

    def __init__(self, store: ObjectStore, home: Path):
        self.store, self.home = store, home

    def __call__(self, dataset_id: str) -> Path | None:
        found = self._local(dataset_id) if isinstance(self.store, LocalStore) else self._cached(dataset_id)
        if found is None and legacy_file(self.home, dataset_id).is_file():
            self._adopt(dataset_id)
            found = self._local(dataset_id) if isinstance(self.store, LocalStore) else self._cached(dataset_id)
        return found

    def _local(self, dataset_id: str) -> Path | None:
        path = self.store.root / upload_key(dataset_id)
        return path if path.is_file() else None

    def _cached(self, dataset_id: str) -> Path | None:
        store: S3Store = self.store
        key = upload_key(dataset_id)
        try:
            found = store.version(key)
        except StoreError as exc:
            raise StoreError(f"could not read uploaded dataset '{dataset_id}': {exc}") from exc
        if found is None:
            _drop_cached(self.home, dataset_id)  # deleted: no copy outlives it
            return None
        etag, size = found
        cached = _cached_name(self.home, dataset_id, etag)
        if cached.is_file() and cached.stat().st_size == size:
            return cached
        # Copies of other versions go; one of this version is replaced whole (a reader holding it keeps it),
        # never deleted, so a run that got this path from another thread can still open it.
        _drop_cached(self.home, dataset_id, but=cached)
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, prefix=".fetch-", suffix=".part")
        os.close(fd)
        try:
            # IfMatch: a copy of exactly the object checked above, or an error, never a mix of two versions.
            with open(tmp, "wb") as out:
                store.copy_version_to(key, etag, out)
            if os.path.getsize(tmp) != size:
                raise StoreError(f"uploaded dataset '{dataset_id}' arrived cut off from {store.url}: "
                                 f"{os.path.getsize(tmp)} of {size} bytes")
            os.replace(tmp, cached)
        finally:
            Path(tmp).unlink(missing_ok=True)
        log.info("cached uploaded dataset %s (%d bytes) from %s", dataset_id, size, store.url)
        return cached

    def _adopt(self, dataset_id: str) -> None:
        """Move an upload from FLOWZA_HOME/datasets into the store (kept by a copy, removed once stored)."""
        old = legacy_file(self.home, dataset_id)
        staging = staging_dir(self.store, self.home)
        staging.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=staging, prefix=".adopt-", suffix=".part")
        os.close(fd)
        try:
            shutil.copyfile(old, tmp)
            keep(self.store, dataset_id, Path(tmp), self.home)
        finally:
            Path(tmp).unlink(missing_ok=True)
        old.unlink(missing_ok=True)
        log.info("moved uploaded dataset %s from %s into the object store", dataset_id, old.parent)


def _cached_name(home: Path, dataset_id: str, etag: str) -> Path:
    # "~" never occurs in a dataset id (nodes.loaders.DATASET_ID): one id's copies are never another's.
    return cache_dir(home) / f"{dataset_id}~{re.sub(r'[^A-Za-z0-9-]', '', etag)}.csv"


def _drop_cached(home: Path, dataset_id: str, but: Path | None = None) -> None:
    for old in cache_dir(home).glob(f"{dataset_id}~*.csv"):
        if old != but:
            old.unlink(missing_ok=True)


@lru_cache(maxsize=4)
def _store(url: str, endpoint: str | None) -> ObjectStore:
    return open_store(url, endpoint)


def settings_store() -> ObjectStore:
    """The object store the settings name (kept open: an S3 client costs tens of milliseconds to make)."""
    settings = get_settings()
    return _store(settings.store_url, settings.s3_endpoint_url)


def default_uploads() -> UploadFiles:
    """Uploads as the settings place them: the configured store, this machine's FLOWZA_HOME."""
    return UploadFiles(settings_store(), get_settings().home_dir)
