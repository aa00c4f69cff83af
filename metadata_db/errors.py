"""Errors of the metadata layer; routes map their codes to HTTP statuses."""

from __future__ import annotations

from flowza_core.errors import FlowzaError


class NotFound(FlowzaError):
    """No such row, or it is soft-deleted."""

    code = "NOT_FOUND"

    def __init__(self, kind: str, key: object):
        super().__init__(f"{kind} '{key}' not found")
        self.kind = kind
        self.key = key


class Conflict(FlowzaError):
    """The change clashes with what is stored (an email already registered, a finished run…)."""

    code = "CONFLICT"


class InvalidValue(FlowzaError):
    """A value outside what a column accepts (an unknown role or run status…)."""

    code = "INVALID_PARAMETER"
