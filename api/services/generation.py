"""Prompt -> workflow for the API: an uploaded dataset becomes the generator's source."""

from __future__ import annotations

from metadata_db.models import Dataset
from api.services import uploads
from flows.generate import Generated, generate_workflow
from flows.generate.profile import PROFILE_ROWS, Source


def dataset_source(dataset: Dataset) -> Source:
    """The dataset as its csv_loader reads it (first ``PROFILE_ROWS`` rows), with that loader node."""
    options = uploads.stored_options(dataset)
    frame = uploads.read_table(uploads.stored_file(dataset), options, limit=PROFILE_ROWS)
    return Source(uploads.loader_node(dataset.id, options), frame, f"'{dataset.name}'")


def generate(prompt: str, dataset: Dataset | None) -> Generated:
    return generate_workflow(prompt, dataset_source(dataset) if dataset is not None else None)
