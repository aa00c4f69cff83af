"""Request and answer bodies of ``/api/deployments`` (see ``api.routes.deployments``)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path as PathParam
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from flowza_core.settings import get_settings

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MAX_VERSION = 2**31 - 1


def _deployment_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise ValueError("a deployment name is 1 to 63 lowercase letters, digits and '-', starting with a letter or "
                         "digit (it becomes part of the endpoint's URL), e.g. 'titanic-prod'")
    return name


def _interval(seconds: int) -> int:
    shortest = get_settings().min_schedule_seconds
    if seconds < shortest:
        raise ValueError(f"monitoring runs at most every {shortest} s (FLOWZA_MIN_SCHEDULE_SECONDS)")
    return seconds


DeploymentName = Annotated[str, Field(json_schema_extra={"pattern": NAME.pattern}, min_length=1, max_length=63,
                                      description="Lowercase letters, digits and '-' (1-63), starting with a "
                                                  "letter or digit: the endpoint's URL holds it."),
                           AfterValidator(_deployment_name)]
Name = Annotated[str, PathParam(min_length=1, max_length=63, description="The deployment's name")]
Interval = Annotated[int, Field(le=366 * 24 * 3600, description="Seconds between two monitoring runs (at least "
                                                                "FLOWZA_MIN_SCHEDULE_SECONDS)"),
                     AfterValidator(_interval)]


class Thresholds(BaseModel):
    """When a monitoring run raises an alert; a field left out keeps its current (or default) value."""

    model_config = ConfigDict(extra="forbid")

    drift_psi: float | None = Field(None, gt=0, le=100, description="A feature drifts past this population "
                                                                    "stability index (default 0.2)")
    drift_p_value: float | None = Field(None, gt=0, lt=1, description="…or when its test's p-value falls below "
                                                                      "this (default 0.01)")
    accuracy_drop: float | None = Field(None, ge=0, le=1, description="Alert when accuracy falls this much below "
                                                                      "the model's own evaluation (default 0.05)")
    rmse_increase: float | None = Field(None, ge=0, le=100, description="Alert when RMSE grows by this fraction "
                                                                        "of the evaluated RMSE (default 0.2)")
    min_rows: int | None = Field(None, ge=1, le=10**9, description="Fewest rows a window needs to be judged "
                                                                   "(default 30)")


class _Target(BaseModel):
    version: int | None = Field(None, ge=1, le=MAX_VERSION, description="Serve this version (pinned)")
    alias: str | None = Field(None, min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_-]+$",
                              description="Serve the version this alias names, and follow it when it moves")
    thresholds: Thresholds | None = None


class DeploymentCreate(_Target):
    name: DeploymentName
    model: str = Field(min_length=1, max_length=255, description="A registered model's name")
    monitoring_interval_s: Interval = 3600

    @model_validator(mode="after")
    def _one_target(self):
        if (self.version is None) == (self.alias is None):
            raise ValueError("give the model's version or an alias to follow: exactly one of the two")
        return self


class DeploymentUpdate(_Target):
    model: str | None = Field(None, min_length=1, max_length=255)
    monitoring_interval_s: Interval | None = None

    @model_validator(mode="after")
    def _at_most_one_target(self):
        if self.version is not None and self.alias is not None:
            raise ValueError("give a version or an alias to follow, not both")
        return self


class DeploymentPublic(BaseModel):
    name: str
    model: str
    version: int | None = Field(description="The pinned version (null when following an alias)")
    alias: str | None = Field(description="The followed alias (null when pinned)")
    current_version: int | None = Field(description="The version served now")
    invocations_url: str
    created_at: datetime
    updated_at: datetime
    status: Literal["loading", "ready", "failed"]
    error: str | None = Field(description="Why the model could not be loaded (status failed)")
    thresholds: dict[str, float]
    monitoring_interval_s: int
    requests_total: int


class TokenRequest(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100, description="What the token is for")


class TokenPublic(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart")
    created_at: datetime
    last_used_at: datetime | None


class TokenCreated(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: datetime
    token: str = Field(description="Shown this once: only its hash is stored")


class PredictionPublic(BaseModel):
    request_id: str
    row: int
    model_version: int
    input: dict[str, Any]
    output: Any
    probability: dict[str, float | None] | None
    latency_ms: float
    created_at: datetime
    label: Any


class PredictionPage(BaseModel):
    items: list[PredictionPublic]
    total: int


Label = str | int | float | bool


class Feedback(BaseModel):
    request_id: str = Field(min_length=1, max_length=36)
    label: Label = Field(description="The ground truth of the row (class label or number)")
    row: int = Field(0, ge=0, le=MAX_VERSION, description="The row's position in its request")


class FeedbackResult(BaseModel):
    labelled: int
    unknown: list[str] = Field(description="Request ids (of this deployment) with no logged row at that position")


class Stats(BaseModel):
    requests_total: int
    predictions_total: int
    last_minute: int = Field(description="Requests in the last 60 s")
    labelled_total: int


class InvocationAnswer(BaseModel):
    predictions: list[Any]
    probabilities: list[dict[str, float] | None] | None = Field(
        None, description="Classifiers only: class label -> probability, per row")
    request_id: str
    model_version: int
    errors: list[dict[str, Any]] | None = Field(None, description="With on_error=skip: the rows not scored")


INVOCATION_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object",
    "description": "MLflow's scoring formats: one of dataframe_split, dataframe_records, instances, inputs. Rows are "
                   "raw, in the loader's schema. on_error=skip scores the good rows and lists the bad ones.",
    "properties": {
        "dataframe_split": {"type": "object", "properties": {"columns": {"type": "array", "items": {"type": "string"}},
                                                             "data": {"type": "array", "items": {"type": "array"}}}},
        "dataframe_records": {"type": "array", "items": {"type": "object"}},
        "instances": {"type": "array"},
        "inputs": {},
        "on_error": {"type": "string", "enum": ["fail", "skip"], "default": "fail"},
        "params": {"type": "object", "description": "Ignored"}}},
    "example": {"dataframe_split": {"columns": ["pclass", "sex", "age"], "data": [[3, "male", 22.0]]}}}}}}
