"""Scoring requests: MLflow's scoring bodies in, MLflow's ``{"predictions": [...]}`` out.

Bodies are read as ``mlflow models serve`` reads them (``dataframe_split``, ``dataframe_records``,
``instances``, ``inputs``) into raw rows in the loader's schema, which the model (a ``FlowzaModel``)
scores itself; answers hold the same JSON values MLflow's would (``ndarray.tolist()``), plus class
probabilities under their own key. Everything a client can get wrong is an ``InvalidInput`` naming the
rows and columns. Standalone (stdlib, numpy, pandas): a Docker export copies this file next to its server.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

import pandas as pd

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
ON_ERROR = ("fail", "skip")
MAX_ROWS = 10_000
INT64 = 2**63
SHOWN_ERRORS = 5  # in the message; ``errors`` lists them all


class InvalidInput(ValueError):
    """The request cannot be scored as sent; ``errors`` lists each problem as {row, column, message}."""

    def __init__(self, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors if errors is not None else [{"row": None, "column": None, "message": message}]


@dataclass
class Scored:
    """One request's answer as JSON-ready values; ``None`` at the rows listed in ``errors``."""

    predictions: list
    probabilities: list[dict] | None
    errors: list[dict] = field(default_factory=list)


@dataclass
class Rows:
    """A request's rows as sent (checked JSON values), before any DataFrame: the serving path builds one
    frame per batch of requests, and logs these values. ``positional``: sent without column names."""

    columns: list
    data: list[list]
    positional: bool = False

    def __len__(self) -> int:
        return len(self.data)

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (a fresh 0..n-1 index)."""
        # Plain (object) column labels: an Arrow-backed text Index makes every later column lookup slower.
        labels = pd.RangeIndex(len(self.columns)) if self.positional else pd.Index(self.columns, dtype=object)
        return pd.DataFrame(self.data, columns=labels)


# --- bodies --------------------------------------------------------------------------------------
def _no_constant(token: str):
    raise InvalidInput(f"{token} is not a JSON number: send null for a missing value")


def parse_body(body: bytes | str | dict) -> tuple[pd.DataFrame, str]:
    """The rows a scoring body holds (a fresh 0..n-1 index) and its ``on_error`` (fail or skip)."""
    rows, on_error = parse_rows(body)
    return rows.frame(), on_error


def parse_rows(body: bytes | str | dict) -> tuple[Rows, str]:
    """``parse_body`` without building the DataFrame: the checked ``Rows`` and ``on_error``."""
    if not isinstance(body, dict):
        try:
            body = json.loads(body, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput(f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidInput(f"the body must be a JSON object with one of the keys {', '.join(FORMATS)}; "
                           f"got {_kind(body)}")
    formats = [k for k in FORMATS if k in body]
    if len(formats) != 1:
        found = f"got {', '.join(formats)}" if formats else f"got the keys {', '.join(map(str, body)) or 'none'}"
        raise InvalidInput(f"the body must hold exactly one of {', '.join(FORMATS)}; {found}")
    on_error = body.get("on_error", "fail")
    if on_error not in ON_ERROR:
        raise InvalidInput(f"on_error must be 'fail' or 'skip', not {on_error!r}",
                           [{"row": None, "column": None, "message": "on_error must be 'fail' or 'skip'"}])
    columns, data = PARSERS[formats[0]](body[formats[0]])
    return _checked(columns, data), on_error


def _split(value) -> tuple[list, list]:
    if not isinstance(value, dict):
        raise InvalidInput(f"dataframe_split must be an object with 'columns' and 'data'; got {_kind(value)}")
    extra = set(value) - {"columns", "data", "index"}
    if "data" not in value or extra:
        raise InvalidInput("dataframe_split must have 'data' and may have 'columns' and 'index'"
                           + (f"; unexpected: {', '.join(sorted(map(str, extra)))}" if extra else ""))
    data = _rows_list(value["data"], "dataframe_split.data")
    rows = [row if isinstance(row, list) else [row] for row in data]  # a list of values: one column
    columns = value.get("columns")
    if columns is None:
        columns = list(range(max((len(r) for r in rows), default=0)))  # positional, as pandas names them
    elif not isinstance(columns, list):
        raise InvalidInput(f"dataframe_split.columns must be a list of column names; got {_kind(columns)}")
    index = value.get("index")
    if index is not None and (not isinstance(index, list) or len(index) != len(rows)):
        raise InvalidInput(f"dataframe_split.index must list one label per row ({len(rows)})")
    bad = [i for i, row in enumerate(rows) if len(row) != len(columns)]
    if bad:
        raise InvalidInput(f"{len(bad)} row(s) of dataframe_split.data do not have {len(columns)} values "
                           f"(one per column), e.g. row {bad[0]} has {len(rows[bad[0]])}",
                           [{"row": i, "column": None, "message": f"{len(rows[i])} values for {len(columns)} "
                                                                  f"columns"} for i in bad])
    return columns, rows


def _records(value, where: str = "dataframe_records") -> tuple[list, list]:
    data = _rows_list(value, where)
    not_objects = [i for i, r in enumerate(data) if not isinstance(r, dict)]
    if not_objects:
        raise InvalidInput(f"{where} must be a list of objects (column -> value); row {not_objects[0]} is "
                           f"{_kind(data[not_objects[0]])}",
                           [{"row": i, "column": None, "message": "not an object"} for i in not_objects])
    columns = list(dict.fromkeys(c for record in data for c in record))  # in order of first appearance
    return columns, [[record.get(c) for c in columns] for record in data]


def _columns(value: dict, where: str) -> tuple[list, list]:
    """A dict of columns: each a list of values (all of one length), or each a single value (one row)."""
    lists = [isinstance(v, list) for v in value.values()]
    if not value or not any(lists):
        return list(value), [list(value.values())]
    if not all(lists):
        scalar = next(c for c, is_list in zip(value, lists) if not is_list)
        raise InvalidInput(f"{where} column '{scalar}' holds one value while others hold lists",
                           [{"row": None, "column": scalar, "message": "a single value among lists"}])
    lengths = {c: len(v) for c, v in value.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidInput(f"the columns of {where} have different lengths: "
                           + ", ".join(f"{c}: {n}" for c, n in list(lengths.items())[:10]),
                           [{"row": None, "column": c, "message": f"{n} values"} for c, n in lengths.items()])
    return list(value), _rows_list([list(row) for row in zip(*value.values())], where)


def _tensor(value, where: str) -> tuple[list, list]:
    """``instances`` / ``inputs``: a list of records, a dict of columns, or a list of rows (by position)."""
    if isinstance(value, dict):
        return _columns(value, where)
    data = _rows_list(value, where)
    if all(isinstance(r, dict) for r in data):
        return _records(data, where)
    if all(isinstance(r, list) for r in data):
        width = len(data[0])
        if any(len(r) != width for r in data):
            raise InvalidInput(f"the rows of {where} do not all have {width} values")
        return list(range(width)), data  # positional: the model's input columns, in the signature's order
    return [0], [[v] for v in data]  # a list of values: one column


PARSERS = {"dataframe_split": _split, "dataframe_records": _records,
           "instances": lambda v: _tensor(v, "instances"), "inputs": lambda v: _tensor(v, "inputs")}


def _rows_list(value, where: str) -> list:
    if not isinstance(value, list):
        raise InvalidInput(f"{where} must be a list of rows; got {_kind(value)}")
    if not value:
        raise InvalidInput(f"{where} holds no rows")
    if len(value) > MAX_ROWS:
        raise InvalidInput(f"{where} holds {len(value)} rows; send at most {MAX_ROWS} a request (split the batch)")
    return value


def _checked(columns: list, rows: list) -> Rows:
    bad_names = [c for c in columns if not isinstance(c, (str, int)) or isinstance(c, bool)]
    if bad_names:
        raise InvalidInput(f"column names must be text; got {_kind(bad_names[0])}",
                           [{"row": None, "column": None, "message": f"column name {_kind(c)}"} for c in bad_names])
    if len(set(columns)) != len(columns):
        twice = sorted({str(c) for c in columns if columns.count(c) > 1})
        raise InvalidInput(f"column(s) named twice: {', '.join(twice)}",
                           [{"row": None, "column": c, "message": "named twice"} for c in twice])
    problems = [{"row": i, "column": str(c), "message": why}
                for i, row in enumerate(rows) for c, v in zip(columns, row) if (why := _bad_cell(v))]
    if problems:
        raise _listing(problems, "cannot be read")
    return Rows(columns, rows, positional=columns == list(range(len(columns))))


def _bad_cell(value) -> str | None:
    """Why a cell value cannot be a raw input (None: it can)."""
    if value is None or isinstance(value, (str, bool)):
        return None
    if isinstance(value, int):
        return None if -INT64 <= value < INT64 else f"{value} is out of the 64-bit integer range"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a finite number"
    return f"{_kind(value)} is not a single value (send numbers, text, true/false or null)"


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number")


# --- scoring -------------------------------------------------------------------------------------
def conform(model, rows: pd.DataFrame | Rows) -> pd.DataFrame | Rows:
    """``rows`` with the model's input columns: rows sent by position get the signature's names;
    ``InvalidInput`` naming every missing column."""
    inputs = list(model.input_dtypes)
    if isinstance(rows, Rows):
        if rows.positional and len(rows.columns) == len(inputs):
            return Rows(inputs, rows.data)
    elif isinstance(rows.columns, pd.RangeIndex) and len(rows.columns) == len(inputs):
        return rows.set_axis(inputs, axis=1)
    present = set(rows.columns)
    # JSON names every column as text: "0" is column 0 of a model trained on integer names.
    missing = [c for c in inputs if c not in present and str(c) not in present]
    if missing:
        names = ", ".join(map(str, missing))
        raise InvalidInput(f"missing column(s): {names}; the model reads {', '.join(map(str, inputs))}",
                           [{"row": None, "column": str(c), "message": "missing column"} for c in missing])
    return rows


def _predict(model, rows: pd.DataFrame) -> tuple[list, list | None]:
    """The model's predictions and probabilities as lists. Its ``UnscorableRows`` (``errors``: {row: reason})
    passes through; any other value it refuses is an ``InvalidInput``."""
    try:
        predictions, probabilities = model.predict_with_proba(rows)
    except (ValueError, TypeError) as exc:
        if isinstance(getattr(exc, "errors", None), dict):
            raise
        raise InvalidInput(f"the model cannot score these rows: {exc}") from exc
    return predictions.tolist(), None if probabilities is None else probabilities.tolist()


def predict_rows(model, rows: pd.DataFrame) -> tuple[list, list | None, dict]:
    """Predictions and probabilities (lists, None at unscorable rows) and {row position: reason}.

    One model call when every row scores; a second one on the good rows when some do not.
    """
    rows = rows.set_axis(pd.RangeIndex(len(rows)), axis=0)
    try:
        return *_predict(model, rows), {}
    except InvalidInput:
        raise
    except ValueError as exc:
        errors = exc.errors
    if "*" in errors:
        raise InvalidInput(errors["*"])
    errors = {int(row): reason for row, reason in errors.items()}
    good = [i for i in range(len(rows)) if i not in errors]
    predictions = [None] * len(rows)
    probabilities = [None] * len(rows) if hasattr(model.estimator, "predict_proba") else None
    if good:
        scored, proba = _predict(model, rows.iloc[good])
        for j, i in enumerate(good):
            predictions[i] = scored[j]
            if probabilities is not None:
                probabilities[i] = proba[j]
    return predictions, probabilities, errors


def request_result(model, predictions: list, probabilities: list | None, errors: dict, on_error: str) -> Scored:
    """One request's ``Scored``, or ``InvalidInput`` listing every bad row if it asked to fail on them."""
    problems = [{"row": row, "column": _column_of(reason), "message": reason} for row, reason in sorted(errors.items())]
    if problems and on_error == "fail":
        raise _listing(problems, "cannot be scored", hint=' (send "on_error": "skip" to score the others)')
    labels = [str(c) for c in model.classes] if probabilities is not None else []
    return Scored(predictions,
                  None if probabilities is None else [None if p is None else dict(zip(labels, p))
                                                      for p in probabilities],
                  [{"row": p["row"], "message": p["message"]} for p in problems])


def score(model, rows: pd.DataFrame, on_error: str = "fail") -> Scored:
    """Score one request's rows with the model (``on_error``: fail on any bad row, or skip them)."""
    return request_result(model, *predict_rows(model, conform(model, rows)), on_error)


def answer(result: Scored) -> dict:
    """The JSON answer: MLflow's ``predictions``, plus ``probabilities`` and ``errors`` when there are some."""
    out = {"predictions": result.predictions}
    if result.probabilities is not None:
        out["probabilities"] = result.probabilities
    if result.errors:
        out["errors"] = result.errors
    return out


def _column_of(reason: str) -> str | None:
    """The column(s) a model's reason names: ``column 'x': …``, ``missing value in x, y …``."""
    named = re.match(r"column '(.*?)': ", reason) or re.match(r"(?:missing|infinite) value in (.+?)(?: \(|$)", reason)
    return named.group(1) if named else None


def _listing(problems: list[dict], what: str, hint: str = "") -> InvalidInput:
    rows = sorted({p["row"] for p in problems if p["row"] is not None})
    shown = "; ".join(f"row {p['row']}" + (f", column '{p['column']}'" if p["column"] is not None else "")
                      + f": {p['message']}" for p in problems[:SHOWN_ERRORS])
    more = f" (and {len(problems) - SHOWN_ERRORS} more)" if len(problems) > SHOWN_ERRORS else ""
    return InvalidInput(f"{len(rows)} row(s) {what}: {shown}{more}{hint}", problems)
