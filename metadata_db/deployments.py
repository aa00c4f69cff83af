"""Model deployments, their tokens and their prediction log: the queries.

Session functions serve the management routes. The serving path (token checks on a cache miss, the
prediction log's batches) uses the short Core functions at the end: no ORM session per request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from metadata_db.base import utcnow
from metadata_db.errors import Conflict, NotFound
from metadata_db.models import DeploymentToken, ModelDeployment, Prediction
from flowza_core.settings import get_settings


class DeploymentNotFound(NotFound):
    code = "DEPLOYMENT_NOT_FOUND"

    def __init__(self, name: str):
        super().__init__("deployment", name)


class DeploymentExists(Conflict):
    code = "DEPLOYMENT_EXISTS"


class PredictionNotFound(NotFound):
    code = "PREDICTION_NOT_FOUND"

    def __init__(self, request_id: str):
        super().__init__("prediction of request", request_id)


# --- deployments -----------------------------------------------------------------------------------------
def get_deployment(session: Session, name: str) -> ModelDeployment:
    found = session.scalar(select(ModelDeployment).where(ModelDeployment.name == name))
    if found is None:
        raise DeploymentNotFound(name)
    return found


def list_deployments(session: Session) -> list[ModelDeployment]:
    return list(session.scalars(select(ModelDeployment).order_by(ModelDeployment.name)))


def exists(session: Session, name: str) -> bool:
    return session.scalar(select(ModelDeployment.id).where(ModelDeployment.name == name)) is not None


def create_deployment(session: Session, **fields: Any) -> ModelDeployment:
    """Insert a deployment; ``DeploymentExists`` when its name is taken (also by a concurrent create)."""
    if exists(session, fields["name"]):
        raise DeploymentExists(taken(fields["name"]))
    deployment = ModelDeployment(**fields)
    try:
        with session.begin_nested():
            session.add(deployment)
    except IntegrityError:
        raise DeploymentExists(taken(fields["name"])) from None
    return deployment


def taken(name: str) -> str:
    return f"a deployment named '{name}' already exists: choose another name, or PATCH that one"


def requests_total(session: Session, deployment_ids: Iterable[str]) -> dict[str, int]:
    """Logged requests per deployment id (each request counted once, whatever its rows)."""
    ids = list(deployment_ids)
    if not ids:
        return {}
    query = (select(Prediction.deployment_id, func.count(func.distinct(Prediction.request_id)))
             .where(Prediction.deployment_id.in_(ids)).group_by(Prediction.deployment_id))
    return {deployment_id: count for deployment_id, count in session.execute(query)}


# --- tokens ----------------------------------------------------------------------------------------------
def add_token(session: Session, deployment_id: str, name: str, token_hash: str, prefix: str,
              created_by: str | None) -> DeploymentToken:
    token = DeploymentToken(deployment_id=deployment_id, name=name, token_hash=token_hash, prefix=prefix,
                            created_by=created_by)
    session.add(token)
    session.flush()
    return token


def list_tokens(session: Session, deployment_id: str) -> list[DeploymentToken]:
    return list(session.scalars(select(DeploymentToken).where(DeploymentToken.deployment_id == deployment_id)
                                .order_by(DeploymentToken.created_at, DeploymentToken.id)))


def count_tokens(session: Session, deployment_id: str) -> int:
    return session.scalar(select(func.count()).select_from(DeploymentToken)
                          .where(DeploymentToken.deployment_id == deployment_id)) or 0


def remove_token(session: Session, deployment_id: str, token_id: str) -> DeploymentToken:
    found = session.get(DeploymentToken, token_id)
    if found is None or found.deployment_id != deployment_id:
        raise NotFound("token", token_id)
    session.delete(found)
    session.flush()
    return found


# --- the prediction log, read ----------------------------------------------------------------------------
def list_predictions(session: Session, deployment_id: str, offset: int, limit: int,
                     labelled: bool | None) -> tuple[list[Prediction], int]:
    """A page of logged predictions, newest first, and how many there are in all."""
    where = [Prediction.deployment_id == deployment_id]
    if labelled is not None:
        where.append(Prediction.labelled_at.is_not(None) if labelled else Prediction.labelled_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Prediction).where(*where)) or 0
    page = session.scalars(select(Prediction).where(*where)
                           .order_by(Prediction.created_at.desc(), Prediction.id.desc()).offset(offset).limit(limit))
    return list(page), total


def label(session: Session, deployment_id: str, request_id: str, row: int, value: Any) -> bool:
    """Attach ground truth to one logged row; False when no such row was logged."""
    changed = session.execute(update(Prediction).where(
        Prediction.deployment_id == deployment_id, Prediction.request_id == request_id, Prediction.row == row)
        .values(label=value, labelled_at=utcnow()))
    return changed.rowcount > 0


def stats(session: Session, deployment_id: str, now: datetime) -> dict[str, int]:
    of = Prediction.deployment_id == deployment_id
    requests = func.count(func.distinct(Prediction.request_id))
    return {
        "requests_total": session.scalar(select(requests).where(of)) or 0,
        "predictions_total": session.scalar(select(func.count()).select_from(Prediction).where(of)) or 0,
        "last_minute": session.scalar(select(requests).where(
            of, Prediction.created_at >= now - timedelta(minutes=1))) or 0,
        "labelled_total": session.scalar(select(func.count()).select_from(Prediction).where(
            of, Prediction.labelled_at.is_not(None))) or 0,
    }


# --- the serving path: Core, no session --------------------------------------------------------------------
def metadata_engine() -> Engine:
    """This process's engine for the metadata database: the one the routes' sessions use."""
    from api.deps import engine_for  # the API's shared pool

    return engine_for(get_settings().metadata_db_url)


def deployment_id(engine: Engine, name: str) -> str | None:
    """The id of the deployment ``name``, or None."""
    with engine.connect() as connection:
        return connection.scalar(select(ModelDeployment.id).where(ModelDeployment.name == name))


def token_by_hash(engine: Engine, token_hash: str) -> tuple[str, str, str] | None:
    """(token id, deployment id, stored hash) of the token with this hash, or None."""
    with engine.connect() as connection:
        found = connection.execute(select(DeploymentToken.id, DeploymentToken.deployment_id,
                                          DeploymentToken.token_hash)
                                   .where(DeploymentToken.token_hash == token_hash)).first()
    return tuple(found) if found else None


def touch_tokens(engine: Engine, used: dict[str, datetime]) -> None:
    """Record when each token (id -> time) was last used."""
    with engine.begin() as connection:
        for token_id, when in used.items():
            connection.execute(update(DeploymentToken).where(DeploymentToken.id == token_id)
                               .values(last_used_at=when))


def deployment_rows(engine: Engine) -> list[ModelDeployment]:
    """Every deployment, detached: what each API process serves."""
    with Session(engine, expire_on_commit=False) as session:
        rows = list(session.scalars(select(ModelDeployment)))
        session.expunge_all()
    return rows


def set_load_outcome(engine: Engine, deployment_id: str, current_version: int | None, status: str,
                     error: str | None) -> None:
    """What this process's last load of the deployment gave (a deleted deployment changes nothing)."""
    with engine.begin() as connection:
        connection.execute(update(ModelDeployment).where(ModelDeployment.id == deployment_id).values(
            current_version=current_version, status=status, error=error, updated_at=utcnow()))


def insert_predictions(engine: Engine, rows: list[dict]) -> int:
    """Insert logged rows in one executemany; rows of deployments deleted meanwhile are dropped. The count kept."""
    try:
        with engine.begin() as connection:
            connection.execute(insert(Prediction), rows)
        return len(rows)
    except IntegrityError:
        ids = {row["deployment_id"] for row in rows}
        with engine.connect() as connection:
            alive = set(connection.scalars(select(ModelDeployment.id).where(ModelDeployment.id.in_(ids))))
        kept = [row for row in rows if row["deployment_id"] in alive]
        if len(kept) == len(rows):
            raise
        if kept:
            with engine.begin() as connection:
                connection.execute(insert(Prediction), kept)
        return len(kept)


def delete_deployment(session: Session, deployment: ModelDeployment) -> None:
    """Delete a deployment with its tokens and its prediction log."""
    session.execute(delete(ModelDeployment).where(ModelDeployment.id == deployment.id))
    session.flush()
