"""Workflows and their version history; every save adds a version, none is ever rewritten."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from metadata_db.base import utcnow
from metadata_db.errors import InvalidValue, NotFound
from metadata_db.models import Share, Workflow, WorkflowVersion

DEFAULT_NAME = "Untitled workflow"  # as flows.spec.WorkflowSpec


def create_workflow(session: Session, owner_id: str | None, definition: dict[str, Any], *,
                    tags: Iterable[str] = ()) -> Workflow:
    """A new workflow whose version 1 is ``definition``; name and description come from it."""
    workflow = Workflow(owner_id=owner_id, tags=_clean_tags(tags), current_version=1)
    _describe(workflow, definition)
    session.add(workflow)
    session.flush()
    session.add(_version(workflow, definition, owner_id))
    session.flush()
    return workflow


def update_workflow(session: Session, workflow_id: str, definition: dict[str, Any], *,
                    user_id: str | None = None) -> Workflow:
    """Save ``definition`` as the next version; saving the current definition again adds nothing."""
    workflow = get_workflow(session, workflow_id, for_update=True)
    if get_version(session, workflow_id, workflow.current_version).definition == definition:
        return workflow
    workflow.current_version += 1
    _describe(workflow, definition)
    session.add(_version(workflow, definition, user_id))
    session.flush()
    return workflow


def set_tags(session: Session, workflow_id: str, tags: Iterable[str]) -> Workflow:
    workflow = get_workflow(session, workflow_id)
    workflow.tags = _clean_tags(tags)
    session.flush()
    return workflow


def get_workflow(session: Session, workflow_id: str, include_deleted: bool = False, *,
                 for_update: bool = False) -> Workflow:
    # Locking the row on PostgreSQL makes concurrent saves number their versions one after another.
    workflow = session.get(Workflow, workflow_id, with_for_update=for_update)
    if workflow is None or (workflow.deleted_at is not None and not include_deleted):
        raise NotFound("workflow", workflow_id)
    return workflow


def list_workflows(session: Session, visible_to: str | None = None, *, tag: str | None = None,
                   include_deleted: bool = False, limit: int | None = None, offset: int = 0) -> list[Workflow]:
    """Most recently changed first. ``visible_to=None`` is single-user mode: every workflow."""
    query = _listing(session, select(Workflow), visible_to, tag, include_deleted)
    return list(session.scalars(query.limit(limit).offset(offset)))


def list_with_definitions(session: Session, visible_to: str | None = None, *, tag: str | None = None,
                          limit: int | None = None, offset: int = 0) -> list[tuple[Workflow, dict[str, Any]]]:
    """As ``list_workflows``, each with its current definition, in one query."""
    query = select(Workflow, WorkflowVersion.definition).join(WorkflowVersion, and_(
        WorkflowVersion.workflow_id == Workflow.id, WorkflowVersion.version == Workflow.current_version))
    query = _listing(session, query, visible_to, tag, include_deleted=False)
    return [(workflow, definition) for workflow, definition in session.execute(query.limit(limit).offset(offset))]


def _listing(session: Session, query: Select, visible_to: str | None, tag: str | None,
             include_deleted: bool) -> Select:
    query = query.order_by(Workflow.updated_at.desc(), Workflow.id)
    if visible_to is not None:
        query = query.where(visible_to_user(visible_to))
    if not include_deleted:
        query = query.where(Workflow.deleted_at.is_(None))
    if tag is not None:
        query = query.where(_has_tag(session, tag))
    return query


def soft_delete_workflow(session: Session, workflow_id: str) -> Workflow:
    workflow = get_workflow(session, workflow_id)
    workflow.deleted_at = utcnow()
    session.flush()
    return workflow


def restore_workflow(session: Session, workflow_id: str) -> Workflow:
    workflow = get_workflow(session, workflow_id, include_deleted=True)
    workflow.deleted_at = None
    session.flush()
    return workflow


def list_versions(session: Session, workflow_id: str) -> list[WorkflowVersion]:
    """Newest first."""
    get_workflow(session, workflow_id)
    query = (select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id)
             .order_by(WorkflowVersion.version.desc()))
    return list(session.scalars(query))


def get_version(session: Session, workflow_id: str, version: int) -> WorkflowVersion:
    found = session.scalar(select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id,
                                                         WorkflowVersion.version == version))
    if found is None:
        raise NotFound("workflow version", f"{workflow_id}@{version}")
    return found


def visible_to_user(user_id: str) -> ColumnElement[bool]:
    """Condition on ``Workflow``: owned by the user or shared with them."""
    shared = exists().where(Share.workflow_id == Workflow.id, Share.user_id == user_id)
    return or_(Workflow.owner_id == user_id, shared)


def _describe(workflow: Workflow, definition: dict[str, Any]) -> None:
    name = definition.get("name") or DEFAULT_NAME
    if not isinstance(name, str) or len(name) > 300:
        raise InvalidValue("a workflow name is a string of at most 300 characters", field="name")
    workflow.name = name
    workflow.description = definition.get("description")


def _version(workflow: Workflow, definition: dict[str, Any], user_id: str | None) -> WorkflowVersion:
    return WorkflowVersion(workflow_id=workflow.id, version=workflow.current_version,
                           definition=copy.deepcopy(definition), created_by=user_id)


def _clean_tags(tags: Iterable[str]) -> list[str]:
    if isinstance(tags, str):
        raise InvalidValue("tags are a list of strings, not one string", field="tags")
    return list(dict.fromkeys(t.strip() for t in tags if t.strip()))


def _has_tag(session: Session, tag: str) -> ColumnElement[bool]:
    # JSON arrays are unnested by a different function on each backend.
    unnest = func.json_array_elements_text if session.get_bind().dialect.name == "postgresql" else func.json_each
    elements = unnest(Workflow.tags).table_valued("value")
    return exists().select_from(elements).where(elements.c.value == tag)
