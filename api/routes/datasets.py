"""Uploaded datasets: upload a CSV (the seed's path), list, describe, preview, download, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, ValidationError

from api import access
from api.auth import CurrentUser
from metadata_db import datasets as rows
from metadata_db.models import Dataset
from api.deps import SessionDep
from api.schemas import Offset
from api.services import uploads
from nodes.csv_reading import CsvReadOptions

router = APIRouter(tags=["datasets"])

UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "A CSV file; how to read it (encoding, header, separator…) is in the query."},
        "name": {"type": "string", "maxLength": 300, "description": "Display name; default: the file's name."}}}}}}}


def _about(name: str) -> str | None:
    info = CsvReadOptions.model_fields[name]
    return " ".join(filter(None, [info.title, "—", info.description])) if info.description else info.title


def read_options(
    separator: str = Query(",", description=_about("separator")),
    encoding: str = Query("utf-8", description=_about("encoding")),
    has_header: bool = Query(True, description=_about("has_header")),
    column_names: list[str] | None = Query(None, description=_about("column_names") + " (repeat the parameter)"),
    na_values: list[str] = Query([], description=_about("na_values") + " (repeat the parameter)"),
    skip_initial_space: bool = Query(False, description=_about("skip_initial_space")),
) -> CsvReadOptions:
    """How to read the CSV, as query parameters: the csv_loader's reading parameters, checked the same way."""
    try:
        return CsvReadOptions(separator=separator, encoding=encoding, has_header=has_header, column_names=column_names,
                              na_values=na_values, skip_initial_space=skip_initial_space)
    except ValidationError as exc:
        raise RequestValidationError([{"type": err["type"], "loc": ("query", *err["loc"]),
                                       "msg": err["msg"].removeprefix("Value error, ")}
                                      for err in exc.errors()]) from None


ReadOptions = Annotated[CsvReadOptions, Depends(read_options)]


def given_read_options(request: Request, options: ReadOptions) -> CsvReadOptions | None:
    """The reading options of the query, or None when it names none (then a dataset is read as at upload)."""
    return options if request.query_params.keys() & CsvReadOptions.model_fields.keys() else None


class CsvWarning(BaseModel):
    code: str = Field(description="HEADER_LOOKS_LIKE_DATA, SEPARATOR_LOOKS_WRONG or MISSING_MARKER.")
    message: str
    fix: dict[str, Any] | None = Field(None, description="Reading parameters that would solve it, ready to set on "
                                                         "the csv_loader and the preview's query.")


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


class DatasetUploaded(DatasetPublic):
    warnings: list[CsvWarning] = Field(description="Likely mistakes in reading the file with the options given.")


class DatasetPreview(BaseModel):
    dataset_id: str
    offset: int
    limit: int
    total_rows: int = Field(description="Rows in the file when read with the options given.")
    columns: list[ColumnStats]
    rows: list[dict[str, Any]]
    warnings: list[CsvWarning]
    loader: dict[str, Any] = Field(description="A csv_loader node reading the dataset as this preview did.")


def to_public(dataset: Dataset) -> DatasetPublic:
    return DatasetPublic(id=dataset.id, name=dataset.name, filename=dataset.filename, rows=dataset.rows,
                         columns=dataset.columns, size_bytes=dataset.size_bytes, created_at=dataset.created_at,
                         loader=uploads.loader_node(dataset.id, uploads.stored_options(dataset)))


@router.post("/api/upload", status_code=status.HTTP_201_CREATED, openapi_extra=UPLOAD_BODY,
             summary="Upload a CSV (multipart 'file', optional 'name'; reading options in the query); "
                     "streamed, size-limited, checked")
async def upload(request: Request, session: SessionDep, user: CurrentUser, options: ReadOptions) -> DatasetUploaded:
    dataset, warnings = await uploads.store_upload(request, session, access.visible_to(user), options)
    return DatasetUploaded(**to_public(dataset).model_dump(), warnings=warnings)


@router.get("/api/datasets/", summary="Your uploaded datasets, newest first")
def list_datasets(session: SessionDep, user: CurrentUser, limit: int = Query(100, ge=1, le=1000),
                  offset: Offset = 0) -> list[DatasetPublic]:
    found = rows.list_datasets(session, access.visible_to(user), limit=limit, offset=offset)
    return [to_public(dataset) for dataset in found]


@router.get("/api/datasets/{dataset_id}", summary="One dataset: size, rows, columns")
def get_dataset(session: SessionDep, user: CurrentUser, dataset_id: str) -> DatasetPublic:
    return to_public(access.dataset(session, user, dataset_id))


@router.get("/api/datasets/{dataset_id}/preview",
            summary="A page of rows, per-column statistics and reading warnings, read with the options given (default: as at upload)")
def preview(session: SessionDep, user: CurrentUser, dataset_id: str,
            given: Annotated[CsvReadOptions | None, Depends(given_read_options)],
            offset: Offset = 0, limit: int = Query(50, ge=1, le=1000)) -> DatasetPreview:
    """Without reading options in the query, the dataset is read as it was at upload."""
    dataset = access.dataset(session, user, dataset_id)
    options = given or uploads.stored_options(dataset)
    summary = uploads.preview_summary(dataset, options)
    return DatasetPreview(dataset_id=dataset.id, offset=offset, limit=limit, total_rows=summary.rows,
                          columns=summary.columns, warnings=summary.warnings,
                          rows=uploads.read_rows(dataset, offset, limit, options, summary.rows),
                          loader=uploads.loader_node(dataset.id, options))


@router.get("/api/datasets/{dataset_id}/download", response_class=FileResponse, summary="The CSV as uploaded")
def download(session: SessionDep, user: CurrentUser, dataset_id: str) -> FileResponse:
    dataset = access.dataset(session, user, dataset_id)
    return FileResponse(uploads.stored_file(dataset), media_type="text/csv; charset=utf-8",
                        filename=dataset.filename)


@router.delete("/api/datasets/{dataset_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a dataset and its file")
def delete_dataset(session: SessionDep, user: CurrentUser, dataset_id: str) -> None:
    uploads.remove(session, access.dataset(session, user, dataset_id))
