"""Uploaded datasets: the file lives in the object store, its description here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from metadata_db.base import new_id, utcnow
from metadata_db.errors import NotFound
from metadata_db.models import Dataset


def create_dataset(session: Session, *, owner_id: str | None, name: str, filename: str, path: str,
                   size_bytes: int, rows: int, columns: list[Any], dataset_id: str | None = None,
                   read_options: dict[str, Any] | None = None) -> Dataset:
    """Describe a stored file; pass ``dataset_id`` when the storage path was built from it."""
    dataset = Dataset(id=dataset_id or new_id(), owner_id=owner_id, name=name, filename=filename, path=path,
                      size_bytes=size_bytes, rows=rows, columns=list(columns), read_options=read_options or None)
    session.add(dataset)
    session.flush()
    return dataset


def get_dataset(session: Session, dataset_id: str, include_deleted: bool = False) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or (dataset.deleted_at is not None and not include_deleted):
        raise NotFound("dataset", dataset_id)
    return dataset


def list_datasets(session: Session, visible_to: str | None = None, *, include_deleted: bool = False,
                  limit: int | None = None, offset: int = 0) -> list[Dataset]:
    """Newest first; ``visible_to`` keeps the user's own datasets, ``None`` (single-user mode) keeps all."""
    query = select(Dataset).order_by(Dataset.created_at.desc(), Dataset.id)
    if visible_to is not None:
        query = query.where(Dataset.owner_id == visible_to)
    if not include_deleted:
        query = query.where(Dataset.deleted_at.is_(None))
    return list(session.scalars(query.limit(limit).offset(offset)))


def soft_delete_dataset(session: Session, dataset_id: str) -> Dataset:
    """Hide the dataset from lists and lookups; the stored file is the caller's to remove or keep."""
    dataset = get_dataset(session, dataset_id)
    dataset.deleted_at = utcnow()
    session.flush()
    return dataset
