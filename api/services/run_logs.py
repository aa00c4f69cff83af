"""A flow run's Prefect log lines, read incrementally, each attributed to the node that wrote it."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta


def node_of_task_run(name: str, node_ids: list[str]) -> str | None:
    """The node a task run belongs to: task runs are named "<label> (<node id>)", or "<node id>"."""
    return next((n for n in node_ids if name == n or name.endswith(f" ({n})")), None)


class RunLogs:
    """A flow run's log lines as they reach Prefect, each once, with the node it came from."""

    BACKLOG = timedelta(seconds=3)  # lines reach Prefect in 2 s batches: also send those of the last 3 s
    MARGIN = timedelta(seconds=10)  # re-read this far behind the newest line sent (late batches); skip sent ids
    TASK_RUN_WAIT_S = 5.0  # how long a line waits for Prefect to record its task run's name (its node)

    def __init__(self, flow_run_id: str, since: datetime):
        self.flow_run_id, self.after = flow_run_id, since - self.BACKLOG
        self.flow_finished = False  # the flow's own "Finished in state ..." line has arrived
        self._client = None
        self._sent: dict[str, datetime] = {}  # id -> timestamp, for lines inside the re-read margin
        self._node_of: dict[str, str] = {}  # task run id -> node id
        self._unnamed_since: dict[str, float] = {}

    async def new_lines(self, node_ids: list[str]) -> list[dict]:
        from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId, LogFilterTimestamp
        from prefect.client.schemas.sorting import LogSort

        if self._client is None:
            from prefect.client.orchestration import get_client

            self._client = await get_client().__aenter__()
        log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[self.flow_run_id]),
                               timestamp=LogFilterTimestamp(after_=self.after))
        lines: list = []
        while True:  # the API serves at most 200 lines a request
            page = await self._client.read_logs(log_filter=log_filter, limit=200, offset=len(lines),
                                                sort=LogSort.TIMESTAMP_ASC)
            lines += page
            if len(page) < 200:
                break
        fresh = [line for line in lines if str(line.id) not in self._sent]
        if any(line.task_run_id and str(line.task_run_id) not in self._node_of for line in fresh):
            await self._name_task_runs(node_ids)
        out = []
        for line in fresh:
            task_run = str(line.task_run_id) if line.task_run_id else None
            # Prefect records a task run's name a little after the task starts: hold its lines back a while.
            if task_run and task_run not in self._node_of and (
                    time.monotonic() - self._unnamed_since.setdefault(task_run, time.monotonic())
                    < self.TASK_RUN_WAIT_S):
                break
            self._sent[str(line.id)] = line.timestamp
            self.flow_finished |= task_run is None and line.message.startswith("Finished in state")
            out.append({"node_id": self._node_of.get(task_run), "level": logging.getLevelName(line.level),
                        "message": line.message, "timestamp": line.timestamp.isoformat()})
        if out:
            self.after = max(self.after, max(self._sent.values()) - self.MARGIN)
            self._sent = {k: t for k, t in self._sent.items() if t >= self.after}
        return out

    async def _name_task_runs(self, node_ids: list[str]) -> None:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        task_runs = await self._client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[self.flow_run_id])))
        for tr in task_runs:
            if (node_id := node_of_task_run(tr.name, node_ids)) is not None:
                self._node_of[str(tr.id)] = node_id

    async def close(self) -> None:
        if self._client is not None:
            await self._client.__aexit__(None, None, None)
