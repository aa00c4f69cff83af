"""AI assistance: a sentence becomes a workflow, grounded in a dataset's real columns and checked before offered."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api import access
from api.auth import CurrentUser
from api.deps import SessionDep
from api.services import generation

router = APIRouter(tags=["ai"])


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=2000, examples=["predict survived from titanic with xgboost, "
                                                                  "fill missing ages"])
    dataset_id: str | None = Field(None, max_length=128, description="An uploaded dataset; default: the shipped "
                                                                     "sample the prompt names.")


class GeneratedWorkflow(BaseModel):
    workflow: dict[str, Any] = Field(description="Valid, laid out left to right, dry-run on a 200-row sample.")
    explanation: str = Field(description="What each step does and why, including the steps added automatically.")
    warnings: list[str]


@router.post("/api/ai/generate-workflow", summary="Turn a description into a workflow (refusals answer 422 "
                                                  "saying why; an LLM endpoint down answers 503)")
def generate_workflow(body: GenerateRequest, session: SessionDep, user: CurrentUser) -> GeneratedWorkflow:
    dataset = access.dataset(session, user, body.dataset_id) if body.dataset_id else None
    return GeneratedWorkflow(**generation.generate(body.prompt, dataset).to_dict())
