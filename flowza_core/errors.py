"""One exception hierarchy for Flowza; every error carries a stable code."""

from __future__ import annotations


class FlowzaError(Exception):
    """Base error: a stable ``code``, a user-facing ``message`` and where it happened."""

    code = "FLOWZA_ERROR"

    def __init__(self, message: str, *, code: str | None = None, node_id: str | None = None,
                 field: str | None = None, details: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.node_id = node_id
        self.field = field
        self.details = details

    def to_dict(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.node_id is not None:
            out["node_id"] = self.node_id
        if self.field is not None:
            out["field"] = self.field
        return out


class NodeError(FlowzaError):
    """Raised by a node function for a problem the user can fix (bad file, missing column…)."""

    code = "NODE_ERROR"


class FileNotFound(NodeError):
    code = "FILE_NOT_FOUND"


class EmptyData(NodeError):
    code = "EMPTY_DATA"


class ParseError(NodeError):
    code = "PARSE_ERROR"


class MissingColumn(NodeError):
    code = "MISSING_COLUMN"


class InvalidParameter(NodeError):
    code = "INVALID_PARAMETER"


class DatasetTooLarge(NodeError):
    code = "DATASET_TOO_LARGE"


class InvalidData(NodeError):
    """The table's values cannot be used as they are (infinite numbers, no features…)."""

    code = "INVALID_DATA"


class TrainingFailed(NodeError):
    """The estimator refused the training table; the message says what it objected to."""

    code = "TRAINING_FAILED"


class NodeFailed(FlowzaError):
    """A node raised; wraps the cause with the node's id and type."""

    code = "NODE_FAILED"

    def __init__(self, node_id: str, node_type: str, cause: BaseException):
        if isinstance(cause, FlowzaError):
            code, message = cause.code, cause.message
        else:
            code, message = "INTERNAL_ERROR", f"{type(cause).__name__}: {cause}"
        super().__init__(f"node '{node_id}' ({node_type}) failed: {message}", code=code,
                         node_id=node_id, field=getattr(cause, "field", None))
        self.node_type = node_type
        self.cause_message = message


class WorkflowInvalid(FlowzaError):
    """The workflow did not validate; ``problems`` lists every issue found."""

    code = "INVALID_WORKFLOW"

    def __init__(self, problems: list):
        errors = [p for p in problems if p.severity == "error"]
        lines = "\n".join(f"  - {p}" for p in errors)
        super().__init__(f"{len(errors)} error(s) in workflow:\n{lines}")
        self.problems = problems
