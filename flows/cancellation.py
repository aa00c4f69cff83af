"""Whether someone asked Prefect to cancel a flow run this process is running.

A node about to start reads a flag. One watcher per Prefect API asks about every run of the process in
a single request every half second: a request per run would grow with the runs a worker holds at once,
on the Prefect server they all share.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import uuid

from prefect.settings import PREFECT_API_URL

log = logging.getLogger(__name__)
POLL_S = 0.5


class CancelWatch:
    """The flow runs of this process that one Prefect API serves, and a thread that asks it about them."""

    _lock = threading.Lock()
    _by_api: dict[str, CancelWatch] = {}

    def __init__(self, api_url: str):
        self.api_url = api_url
        self.runs: dict[uuid.UUID, threading.Event] = {}

    @classmethod
    def register(cls, flow_run_id: str) -> threading.Event:
        """Start watching a flow run; the event is set once someone asks to cancel it."""
        api_url = PREFECT_API_URL.value() or ""  # "": the temporary server Prefect runs in this process
        with cls._lock:
            watcher = cls._by_api.get(api_url)
            if watcher is None:
                watcher = cls._by_api[api_url] = cls(api_url)
                # In the run's context: Prefect's settings (which API, its credentials) are context variables.
                threading.Thread(target=contextvars.copy_context().run, args=(watcher._watch,),
                                 name="flowza-cancel-watch", daemon=True).start()
            return watcher.runs.setdefault(uuid.UUID(str(flow_run_id)), threading.Event())

    @classmethod
    def unregister(cls, flow_run_id: str) -> None:
        with cls._lock:
            for watcher in cls._by_api.values():
                watcher.runs.pop(uuid.UUID(str(flow_run_id)), None)

    def _watch(self) -> None:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        stop = threading.Event()
        with get_client(sync_client=True) as client:
            while not stop.wait(POLL_S):
                with self._lock:
                    ids = list(self.runs)
                    if not ids:  # the thread ends with the last run; the next run starts another
                        del self._by_api[self.api_url]
                        return
                try:
                    found = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)),
                                                  limit=len(ids))
                except Exception:  # an unreachable API must not stop the runs
                    log.debug("could not read the states of %d flow runs", len(ids), exc_info=True)
                    continue
                with self._lock:
                    for run in found:
                        if run.state and run.state.is_cancelling() and run.id in self.runs:
                            self.runs[run.id].set()
