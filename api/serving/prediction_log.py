"""The prediction log: every scored row, written to the metadata database in batches, off the request path.

``add`` appends the request to an in-memory buffer and returns at once; a writer thread turns the
buffer into rows and inserts them in one executemany every FLOWZA_PREDICTION_LOG_FLUSH_S (0.5 s), or
as soon as ``BATCH_ROWS`` rows wait. What survives what:

- a graceful stop (SIGTERM): uvicorn stops accepting, finishes the requests in flight, then the API's
  lifespan closes the log, which writes everything: nothing that was answered 200 is lost;
- a crash (SIGKILL, power loss): the rows answered in the last flush window (0.5 s) and the batch
  being written at that moment are lost; everything answered earlier is in the database.

When the database does not answer, rows stay buffered and are tried again at the next flush (up to
``MAX_BUFFERED_ROWS``; past that the oldest are dropped, and the log says how many).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from metadata_db import deployments as rows_db
from metadata_db.base import utcnow
from api.serving.scoring import Rows
from flowza_core.settings import get_settings

log = logging.getLogger(__name__)
BATCH_ROWS = 500
MAX_BUFFERED_ROWS = 200_000
CLOSE_ATTEMPTS = 3  # a database that is away at shutdown is tried this often before rows are given up


@dataclass(frozen=True)
class Logged:
    """One answered request, as the route hands it over (turned into rows on the writer thread)."""

    deployment_id: str
    request_id: str
    model_version: int
    rows: pd.DataFrame | Rows
    predictions: list
    probabilities: list[dict] | None
    errors: list[dict]
    latency_ms: float
    created_at: datetime


class PredictionLog:
    """The buffer and its writer thread; one per API process (``start`` in the lifespan, ``close`` at stop)."""

    def __init__(self, flush_s: float | None = None, batch_rows: int = BATCH_ROWS):
        self.flush_s = flush_s if flush_s is not None else get_settings().prediction_log_flush_s
        self.batch_rows = batch_rows
        self._buffer: deque[Logged] = deque()
        self._buffered_rows = 0
        self._added = self._done = 0  # requests added, and written (or given up)
        self._wake = threading.Condition()
        self._writing = threading.Lock()
        self._flush_asked = self._closing = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="flowza-prediction-log", daemon=True)
        self._thread.start()

    def add(self, logged: Logged) -> None:
        """Buffer one answered request; never blocks on the database."""
        with self._wake:
            self._buffer.append(logged)
            self._added += 1
            self._buffered_rows += len(logged.predictions)
            if self._buffered_rows >= self.batch_rows:
                self._wake.notify()

    def flush(self, timeout: float = 30) -> bool:
        """Write everything added so far; False if that did not happen within ``timeout`` (database away)."""
        if self._thread is None or not self._thread.is_alive():
            self._write()
            with self._wake:
                return not self._buffer
        with self._wake:
            target = self._added
            self._flush_asked = True
            self._wake.notify()
            return self._wake.wait_for(lambda: self._done >= target, timeout)

    def close(self) -> None:
        """Stop the writer and write everything buffered (tried ``CLOSE_ATTEMPTS`` times)."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()
        for _ in range(CLOSE_ATTEMPTS):
            if self._write():
                return
        with self._wake:
            lost = self._buffered_rows
        log.error("the prediction log could not write its last %d row(s): the metadata database did not take them",
                  lost)

    def _run(self) -> None:
        due = time.monotonic() + self.flush_s
        while True:
            with self._wake:
                if not (self._closing or self._flush_asked or self._buffered_rows >= self.batch_rows):
                    self._wake.wait(max(0.0, due - time.monotonic()))
                self._flush_asked = False
                closing = self._closing
            if closing:
                return  # close() writes the rest, on its own thread
            due = time.monotonic() + self.flush_s  # from the start of this write: its own time is not added
            self._write()

    def _write(self) -> bool:
        """Insert what is buffered; False (and everything kept for the next try) when the database refused."""
        with self._writing:
            with self._wake:
                batch = list(self._buffer)
                self._buffer.clear()
                self._buffered_rows = 0
            if not batch:
                return True
            try:
                batch_rows = [row for logged in batch for row in _rows(logged)]
                rows_db.insert_predictions(rows_db.metadata_engine(), batch_rows)
            except Exception:
                log.warning("could not write %d logged request(s) to the metadata database; trying again",
                            len(batch), exc_info=True)
                self._keep(batch)
                return False
            with self._wake:
                self._done += len(batch)
                self._wake.notify_all()
            return True

    def _keep(self, batch: list[Logged]) -> None:
        with self._wake:
            self._buffer.extendleft(reversed(batch))
            self._buffered_rows += sum(len(logged.predictions) for logged in batch)
            dropped = 0
            while self._buffered_rows > MAX_BUFFERED_ROWS and self._buffer:
                self._buffered_rows -= len(self._buffer.popleft().predictions)
                dropped += 1
            self._done += dropped
        if dropped:
            log.error("the prediction log dropped its %d oldest request(s): the metadata database has not taken "
                      "rows for a while and the buffer is full", dropped)


def new_entry(deployment_id: str, request_id: str, model_version: int, rows: pd.DataFrame | Rows, scored,
              latency_ms: float) -> Logged:
    return Logged(deployment_id, request_id, model_version, rows, scored.predictions, scored.probabilities,
                  scored.errors, latency_ms, utcnow())


def _rows(logged: Logged) -> list[dict]:
    """The rows to insert: each scored row of the request (rows refused with ``on_error=skip`` have no prediction)."""
    refused = {error.get("row") for error in logged.errors}
    columns = [str(c) for c in logged.rows.columns]
    # Rows: the values as sent. A frame: through an object array, 6x faster than to_dict("records") on one row,
    # and the values are Python's.
    values = logged.rows.data if isinstance(logged.rows, Rows) else logged.rows.to_numpy(dtype=object).tolist()
    inputs = [dict(zip(columns, row)) for row in values]
    out = []
    for i, (values, output) in enumerate(zip(inputs, logged.predictions)):
        if i in refused:
            continue
        out.append({"deployment_id": logged.deployment_id, "request_id": logged.request_id, "row": i,
                    "model_version": logged.model_version, "input": json_safe(values), "output": json_safe(output),
                    "probability": json_safe(logged.probabilities[i]) if logged.probabilities else None,
                    "latency_ms": logged.latency_ms, "created_at": logged.created_at})
    return out


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON: NaN, infinities and missing values become null, numpy scalars Python ones."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and not hasattr(value, "__len__"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    try:
        if pd.isna(value):  # None-likes: pd.NA, NaT
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)
