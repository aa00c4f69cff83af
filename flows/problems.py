"""One problem found in a workflow: what, where (node and field), and how serious."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    node_id: str | None = None
    field: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = f"[{self.node_id}{'.' + self.field if self.field else ''}] " if self.node_id else ""
        return f"{where}{self.message} ({self.code})"

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}
