"""Persist node outputs by their type, summarise them, and load them back lazily."""

from __future__ import annotations

import json
import logging
import pickle
import threading
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd
import pyarrow as pa

from flows.store import TABLE_SUFFIX, ObjectStore
from nodes.ports import Dataset, Json, Metrics, Model, Text

log = logging.getLogger(__name__)
HEAD_ROWS = 5
SHOWN_VALUE_CHARS = 64 * 1024  # a text or JSON output up to this size is in the run record itself, for the editor


def summarize(value: Any) -> dict:
    """What a user sees of an output without loading it: shape, types, gaps, first rows."""
    if isinstance(value, Dataset):
        frame = value.frame
        head = json.loads(frame.head(HEAD_ROWS).to_json(orient="records", date_format="iso", default_handler=str))
        return {
            "kind": "dataset",
            "rows": int(len(frame)),
            "columns": [str(c) for c in frame.columns],
            "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()},
            "null_counts": {str(c): int(n) for c, n in frame.isna().sum().items()},
            "head": head,
        }
    if isinstance(value, Model):
        predictor = value.predictor
        return {"kind": "model", "task": predictor.task, "target": predictor.target,
                "estimator": type(predictor.estimator).__name__, "input_columns": list(predictor.input_dtypes),
                "features": len(predictor.feature_columns),
                **({"classes": [c.item() if hasattr(c, "item") else c for c in predictor.classes]}
                   if predictor.classes is not None else {})}
    if isinstance(value, Metrics):
        return {"kind": "metrics", "values": value.values, "artifacts": sorted(value.artifacts)}
    if isinstance(value, Text):
        text = value.value or ""
        return {"kind": "text", "value": text[:SHOWN_VALUE_CHARS], "chars": len(text),
                "truncated": len(text) > SHOWN_VALUE_CHARS}
    if isinstance(value, Json):
        shown = json.dumps(value.value, default=str)
        if len(shown) <= SHOWN_VALUE_CHARS:
            return {"kind": "json", "value": json.loads(shown), "truncated": False}
        return {"kind": "json", "value": None, "preview": shown[:SHOWN_VALUE_CHARS], "truncated": True}
    return {"kind": type(value).__name__}


@dataclass
class OutputRef:
    """A node output: in memory when computed in this run, otherwise loaded on first use."""

    fingerprint: str
    ref: dict
    summary: dict
    _value: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, outputs: "OutputStore") -> Any:
        with self._lock:
            if self._value is None:
                self._value = outputs.load(self.ref)
            return self._value

    def release(self, outputs: "OutputStore") -> None:
        """Let go of the value once no node of the run will read it (a pending write keeps its own hold)."""
        with self._lock:
            value, self._value = self._value, None
        if isinstance(value, Dataset) and value.frame is not value.raw:  # raw tables are shared by lineage
            outputs.forget(value.frame)


class OutputStore:
    """Chooses storage by type: tables as Arrow IPC files, small values as JSON, steps pickled.

    A table keeps a link to the loader table it came from (``Dataset.raw``); that table
    is stored once and shared by every dataset derived from it.
    """

    def __init__(self, store: ObjectStore, on_model_loaded=None):
        self.store = store
        self.on_model_loaded = on_model_loaded
        self._lock = threading.Lock()
        self._keys_by_frame: dict[int, tuple[pd.DataFrame, str]] = {}
        self._frames_by_key: dict[str, pd.DataFrame] = {}

    def _remember(self, frame: pd.DataFrame, key: str) -> None:
        with self._lock:
            self._keys_by_frame[id(frame)] = (frame, key)
            self._frames_by_key[key] = frame

    def forget(self, frame: pd.DataFrame) -> None:
        with self._lock:
            if (hit := self._keys_by_frame.pop(id(frame), None)) and hit[0] is frame:
                self._frames_by_key.pop(hit[1], None)

    def _key_of(self, frame: pd.DataFrame) -> str | None:
        with self._lock:
            hit = self._keys_by_frame.get(id(frame))
            return hit[1] if hit and hit[0] is frame else None

    def plan_save(self, fingerprint: str, value: Any) -> tuple[dict, list]:
        """The reference a value will be stored under, and the writes that store it.

        Planning is instant, so downstream nodes can refer to the output while the
        writes run in the background.
        """
        if isinstance(value, Dataset):
            key = f"data/{fingerprint}{TABLE_SUFFIX}"
            self._remember(value.frame, key)
            writes = [lambda: self._write_frame(key, value.frame)]
            raw_key = key if value.raw is value.frame else self._key_of(value.raw)
            if raw_key is None:
                raw_key = f"data/{fingerprint}.raw{TABLE_SUFFIX}"
                self._remember(value.raw, raw_key)
                writes.append(lambda: self._write_frame(raw_key, value.raw))
            ref = {"kind": "dataset", "key": key, "uri": self.store.uri(key)}
            if value.steps or raw_key != key or value.target:
                lineage_key = f"data/{fingerprint}.lineage.pkl"
                lineage = {"raw": raw_key, "steps": value.steps, "fitted_on": value.fitted_on,
                           "target": value.target}
                writes.append(lambda: self.store.put_bytes(lineage_key, pickle.dumps(lineage)))
                ref["lineage"] = lineage_key
            return ref, writes
        if isinstance(value, Model):
            key = f"data/{fingerprint}.model.pkl"
            ref = {"kind": "model", "key": key, "uri": self.store.uri(key)}
            if value.registration:
                ref["registration"] = list(value.registration)
            return ref, [lambda: self.store.put_bytes(key, pickle.dumps(value.predictor))]
        if isinstance(value, Metrics):
            ref = {"kind": "metrics", "value": value.values,
                   "artifacts": {name: f"data/{fingerprint}/{name}" for name in value.artifacts}}
            return ref, [partial(self.store.put_bytes, ref["artifacts"][name], data)
                         for name, data in value.artifacts.items()]
        if isinstance(value, Text):
            return {"kind": "text", "value": value.value}, []
        if isinstance(value, Json):
            return {"kind": "json", "value": value.value}, []
        raise TypeError(f"no storage for outputs of type {type(value).__name__}")

    def _write_frame(self, key: str, frame: pd.DataFrame) -> None:
        self.store.write_table(key, pa.Table.from_pandas(frame, preserve_index=None))

    def _read_frame(self, key: str) -> pd.DataFrame:
        with self._lock:
            frame = self._frames_by_key.get(key)
        if frame is None:
            frame = self.store.read_table(key).to_pandas()
            self._remember(frame, key)
        return frame

    def load(self, ref: dict) -> Any:
        kind = ref["kind"]
        if kind == "dataset":
            frame = self._read_frame(ref["key"])
            if "lineage" not in ref:
                return Dataset(frame)
            lineage = pickle.loads(self.store.get_bytes(ref["lineage"]))
            raw = frame if lineage["raw"] == ref["key"] else self._read_frame(lineage["raw"])
            return Dataset(frame, raw, tuple(lineage["steps"]), lineage["fitted_on"], lineage["target"])
        if kind == "model":
            predictor = pickle.loads(self.store.get_bytes(ref["key"]))
            if self.on_model_loaded and ref.get("model_uri"):
                self.on_model_loaded(predictor, ref["model_uri"])
            return Model(predictor, tuple(ref["registration"]) if ref.get("registration") else None)
        if kind == "metrics":
            artifacts = {name: self.store.get_bytes(key) for name, key in ref.get("artifacts", {}).items()}
            return Metrics(ref["value"], artifacts)
        if kind == "text":
            return Text(ref["value"])
        if kind == "json":
            return Json(ref["value"])
        raise TypeError(f"unknown stored output kind {kind!r}")

    def exists(self, ref: dict) -> bool:
        return "key" not in ref or self.store.exists(ref["key"])
