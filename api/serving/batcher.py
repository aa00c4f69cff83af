"""Micro-batching: requests that arrive while the model is busy are scored together in one call.

A model call on 8 rows costs about what one on 1 row costs, so under load the rows of every waiting
request go through the model at once, on one dedicated thread (threads contending for the GIL would
only slow each other down). Nothing waits for company: a request alone is scored at once. Each caller
gets exactly its own rows back, and a bad row fails only the request that sent it.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd

from api.serving.scoring import InvalidInput, Rows, Scored, conform, predict_rows, request_result

log = logging.getLogger(__name__)
MAX_BATCH_ROWS = 256  # beyond this a batch stops growing (a single larger request is still scored whole)


@dataclass
class _Request:
    rows: pd.DataFrame | Rows
    on_error: str
    answer: asyncio.Future


class Batcher:
    """Scores one model's requests, merging concurrent ones into one model call."""

    def __init__(self, model, max_rows: int = MAX_BATCH_ROWS):
        self.model = model
        self.max_rows = max_rows
        self._waiting: list[_Request] = []
        self._worker: asyncio.Task | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowza-scoring")
        self._closed = False

    async def score(self, rows: pd.DataFrame | Rows, on_error: str = "fail") -> Scored:
        """This request's ``Scored``; ``InvalidInput`` for its bad rows or columns only."""
        if self._closed:
            raise RuntimeError("this model was replaced or unloaded: score with the deployment's current one")
        rows = conform(self.model, rows)  # a missing column is this request's problem, before any merging
        request = _Request(rows, on_error, asyncio.get_running_loop().create_future())
        self._waiting.append(request)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())
        return await request.answer

    async def close(self) -> None:
        """Take no more requests; answer the queued ones, then release the scoring thread."""
        self._closed = True
        if self._worker is not None and not self._worker.done():
            await asyncio.shield(self._worker)
        self._thread.shutdown(wait=False)

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            batch, total = [], 0
            while self._waiting and (not batch or total + len(self._waiting[0].rows) <= self.max_rows):
                request = self._waiting.pop(0)
                if not request.answer.cancelled():  # its client went away while it waited
                    batch.append(request)
                    total += len(request.rows)
            if not batch:
                continue
            try:
                answers = await loop.run_in_executor(self._thread, self._score_batch, batch)
            except Exception as exc:  # a model failure: every request of the batch shares it
                log.exception("scoring a batch of %d request(s) failed", len(batch))
                answers = [exc] * len(batch)
            for request, answer in zip(batch, answers):
                if request.answer.done():
                    continue
                if isinstance(answer, BaseException):
                    request.answer.set_exception(answer)
                else:
                    request.answer.set_result(answer)

    def _score_batch(self, batch: list[_Request]) -> list[Scored | InvalidInput]:
        """One model call for every row of ``batch``; each request's share of the result (or its error)."""
        try:
            predictions, probabilities, errors = predict_rows(self.model, _merged([r.rows for r in batch]))
        except InvalidInput as exc:
            if len(batch) == 1:
                return [exc]
            # A value the model refuses outright (not a per-row error): find whose by scoring each alone.
            return [self._score_alone(r) for r in batch]
        answers, start = [], 0
        for request in batch:
            end = start + len(request.rows)
            own = {row - start: reason for row, reason in errors.items() if start <= row < end}
            try:
                share = None if probabilities is None else probabilities[start:end]
                answers.append(request_result(self.model, predictions[start:end], share, own, request.on_error))
            except InvalidInput as exc:
                answers.append(exc)
            start = end
        return answers

    def _score_alone(self, request: _Request) -> Scored | InvalidInput:
        try:
            return request_result(self.model, *predict_rows(self.model, _merged([request.rows])), request.on_error)
        except InvalidInput as exc:
            return exc


def _merged(requests: list[pd.DataFrame | Rows]) -> pd.DataFrame:
    """One DataFrame of the rows of every request: built once from their values when they all name the same
    columns (building a frame costs about as much for 1 row as for 100), else one frame each, concatenated."""
    first = requests[0]
    if all(isinstance(r, Rows) and r.columns == first.columns for r in requests):
        data = first.data if len(requests) == 1 else [row for r in requests for row in r.data]
        return Rows(first.columns, data, first.positional).frame()
    frames = [r.frame() if isinstance(r, Rows) else r for r in requests]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
