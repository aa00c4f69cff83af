"""Uploaded datasets: upload a CSV (the seed's path), list, describe, preview, download, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api import access
from api.auth import CurrentUser
from api.db import datasets as rows
from api.db.models import Dataset
from api.deps import SessionDep
from api.services import uploads

router = APIRouter(tags=["datasets"])

UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "A UTF-8 CSV with a header line."},
        "name": {"type": "string", "maxLength": 300, "description": "Display name; default: the file's name."}}}}}}}


class ColumnPublic(BaseModel):
    name: str
    dtype: str


class ColumnStats(ColumnPublic):
    null_count: int | None = None
    unique_count: int | None = None
    min: int | float | None = None
    max: int | float | None = None
    mean: float | None = None


class DatasetPublic(BaseModel):
    id: str
    name: str
    filename: str = Field(description="The uploaded file's name, cleaned; metadata only.")
    rows: int
    columns: list[ColumnPublic]
    size_bytes: int
    created_at: datetime
    loader: dict[str, Any] = Field(description="A csv_loader node reading this dataset, ready for a workflow.")


class DatasetPreview(BaseModel):
    dataset_id: str
    offset: int
    limit: int
    total_rows: int
    columns: list[ColumnStats]
    rows: list[dict[str, Any]]


def to_public(dataset: Dataset) -> DatasetPublic:
    return DatasetPublic(id=dataset.id, name=dataset.name, filename=dataset.filename, rows=dataset.rows,
                         columns=dataset.columns, size_bytes=dataset.size_bytes, created_at=dataset.created_at,
                         loader={"type": "csv_loader", "parameters": {"dataset_id": dataset.id}})


@router.post("/api/upload", status_code=status.HTTP_201_CREATED, openapi_extra=UPLOAD_BODY,
             summary="Upload a CSV (multipart 'file', optional 'name'); streamed, size-limited, checked")
async def upload(request: Request, session: SessionDep, user: CurrentUser) -> DatasetPublic:
    return to_public(await uploads.store_upload(request, session, access.visible_to(user)))


@router.get("/api/datasets/", summary="Your uploaded datasets, newest first")
def list_datasets(session: SessionDep, user: CurrentUser, limit: int = Query(100, ge=1, le=1000),
                  offset: int = Query(0, ge=0)) -> list[DatasetPublic]:
    found = rows.list_datasets(session, access.visible_to(user), limit=limit, offset=offset)
    return [to_public(dataset) for dataset in found]


@router.get("/api/datasets/{dataset_id}", summary="One dataset: size, rows, columns")
def get_dataset(session: SessionDep, user: CurrentUser, dataset_id: str) -> DatasetPublic:
    return to_public(access.dataset(session, user, dataset_id))


@router.get("/api/datasets/{dataset_id}/preview", summary="A page of rows, with per-column statistics")
def preview(session: SessionDep, user: CurrentUser, dataset_id: str, offset: int = Query(0, ge=0),
            limit: int = Query(50, ge=1, le=1000)) -> DatasetPreview:
    dataset = access.dataset(session, user, dataset_id)
    return DatasetPreview(dataset_id=dataset.id, offset=offset, limit=limit, total_rows=dataset.rows,
                          columns=dataset.columns, rows=uploads.read_rows(dataset, offset, limit))


@router.get("/api/datasets/{dataset_id}/download", response_class=FileResponse, summary="The CSV as uploaded")
def download(session: SessionDep, user: CurrentUser, dataset_id: str) -> FileResponse:
    dataset = access.dataset(session, user, dataset_id)
    return FileResponse(uploads.stored_file(dataset), media_type="text/csv; charset=utf-8",
                        filename=dataset.filename)


@router.delete("/api/datasets/{dataset_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a dataset and its file")
def delete_dataset(session: SessionDep, user: CurrentUser, dataset_id: str) -> None:
    uploads.remove(session, access.dataset(session, user, dataset_id))
