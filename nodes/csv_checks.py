"""Warnings for a CSV that loaded, but likely not as meant: a header that is data, one lone column, gap markers,
a separator ending every data line.

Each check looks at a sample of the loaded rows (the separator check also at the file's first lines), never
at the whole table a second time. A warning is ``{code, message, fix}``; ``fix`` holds the reading parameters
(csv_loader's, the upload preview's) that would solve it, so the editor can offer it as one click.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from nodes.csv_reading import SEPARATORS, TRAILING_SEPARATOR, CsvReadOptions, guess_separator

SAMPLE_ROWS = 2000
MARKER_SHARE = 0.95  # of a column's values that are not numbers
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
PUNCTUATION_MARKER = re.compile(r"^[^\w\s]{1,3}$")  # ?, -, --, ., *, #, …
MARKER_WORDS = {"na", "n.a.", "n/a", "none", "null", "nil", "missing", "nan", "undefined", "#n/a", "#value!",
                "#div/0!", "#ref!"}  # compared in lower case
HEADER_LIKE, DATA_LIKE, NEUTRAL = "header", "data", "neutral"
FEW_VALUES = 0.5  # a text column is categorical when under this share of its sampled values are distinct


def table_warnings(frame: pd.DataFrame, options: CsvReadOptions, head: Callable[[], str]) -> list[dict]:
    """Every likely mistake in reading ``frame`` with ``options``; ``head()`` gives the file's first lines."""
    sample = frame
    if len(frame) > SAMPLE_ROWS:  # the first rows and an even spread of the rest
        half = SAMPLE_ROWS // 2
        sample = frame.take(np.r_[0:half, half:len(frame):(len(frame) - half) // half])
    found = [header_is_data(sample, options), lone_column(frame, options, head), gap_markers(sample, options),
             trailing_separator(frame, options)]
    return [warning for warning in found if warning]


def header_is_data(sample: pd.DataFrame, options: CsvReadOptions) -> dict | None:
    """The header row has the form of the rows below it: all numbers, or each name fits its column."""
    names = [name for name in _as_written(sample.columns) if not name.startswith("Unnamed: ")]
    if not options.has_header or options.column_names is not None or _is_a_run(names):
        return None
    if not (bool(names) and all(NUMBER.match(name.strip()) for name in names)) and not _names_fit(sample):
        return None
    return {"code": "HEADER_LOOKS_LIKE_DATA",
            "message": "the first row looks like data, not column names: no header? set has_header=false",
            "fix": {"has_header": False}}


def _as_written(columns) -> list[str]:
    """The names as the header row spells them: pandas renames a repeated ``0`` to ``0.1``, ``0.2``, …"""
    seen, names = set(), []
    for name in map(str, columns):
        base, dot, number = name.rpartition(".")
        names.append(base if dot and number.isdigit() and base in seen else name)
        seen.add(names[-1])
    return names


def _names_fit(sample: pd.DataFrame) -> bool:
    """No name reads like a header, and at least as many read like a value of their column as could be either."""
    written = dict(zip(sample.columns, _as_written(sample.columns)))
    text_last = sorted(sample.columns, key=lambda name: not ptypes.is_numeric_dtype(sample[name]))  # cheap first
    kinds = []
    for name in text_last:
        kinds.append(_name_kind(written[name], sample[name]))
        if kinds[-1] == HEADER_LIKE:
            return False
    return kinds.count(DATA_LIKE) >= kinds.count(NEUTRAL)


def _is_a_run(names: list[str]) -> bool:
    """Consecutive integers (0…n-1, 1…n, years) are labels someone gave columns, not a row of data."""
    if len(names) < 2 or not all(re.fullmatch(r"\d+", name.strip()) for name in names):
        return False
    numbers = [int(name) for name in names]
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def _name_kind(name: str, column: pd.Series) -> str:
    """Whether a column's name reads like a header, like one of its values, or could be either."""
    name = name.strip()
    if name.startswith("Unnamed: "):
        return NEUTRAL  # an empty header field: a row of data can have one too
    if ptypes.is_bool_dtype(column):
        return DATA_LIKE if name.lower() in {"true", "false"} else HEADER_LIKE
    if ptypes.is_numeric_dtype(column):
        return DATA_LIKE if NUMBER.match(name) else HEADER_LIKE
    values = column.dropna().astype(str).str.strip()
    if values.empty:
        return NEUTRAL
    if name in set(values) or (any(ch.isdigit() for ch in name) and _shape(name) == _shape(values.mode()[0])):
        return DATA_LIKE  # one of the values, or shaped like them (2021-03-04 over dates)
    return HEADER_LIKE if values.nunique() < FEW_VALUES * len(values) else NEUTRAL


def _shape(text: str) -> str:
    return re.sub(r"[A-Za-z]+", "a", re.sub(r"\d+", "9", text))


def lone_column(frame: pd.DataFrame, options: CsvReadOptions, head: Callable[[], str]) -> dict | None:
    """One column came out, but the file's lines are split by another separator."""
    if len(frame.columns) != 1:
        return None
    better = guess_separator(head(), options.separator)
    if better is None:
        return None
    return {"code": "SEPARATOR_LOOKS_WRONG",
            "message": f"only one column was read, but the lines are split by {SEPARATORS[better]}: "
                       f"set the separator to {SEPARATORS[better]}",
            "fix": {"separator": better}}


def trailing_separator(frame: pd.DataFrame, options: CsvReadOptions) -> dict | None:
    """The data lines end with a separator the header line lacks; the reader left that empty field out."""
    if not frame.attrs.get(TRAILING_SEPARATOR):
        return None
    separator = SEPARATORS.get(options.separator, f"'{options.separator}'")
    return {"code": "TRAILING_SEPARATOR",
            "message": f"the data lines end with {separator}, one more than the header has: the empty field "
                       f"after the last column was left out"}


def is_gap_marker(value: str) -> bool:
    """Short punctuation (?, -, .) or a word for 'missing' that pandas does not already treat as one."""
    value = value.strip()
    return bool(PUNCTUATION_MARKER.match(value)) or value.lower() in MARKER_WORDS


def gap_markers(sample: pd.DataFrame, options: CsvReadOptions) -> dict | None:
    """Columns whose values, numbers aside, are almost all one kind of marker (``?`` in a column of ages)."""
    hits: dict[str, list[str]] = {}
    for name, column in sample.items():
        if ptypes.is_numeric_dtype(column) or ptypes.is_bool_dtype(column):
            continue
        values = column.dropna().astype(str)
        if not any(is_gap_marker(value) and value not in options.na_values for value in values.unique()):
            continue  # the usual case, decided on the distinct values alone
        not_numbers = values[pd.to_numeric(values.str.strip(), errors="coerce").isna()]
        counts = not_numbers.value_counts()
        markers = [value for value in counts.index if is_gap_marker(value) and value not in options.na_values]
        if markers and counts[markers].sum() > MARKER_SHARE * len(not_numbers):
            hits[str(name)] = markers
    if not hits:
        return None
    markers = list(dict.fromkeys(marker for found in hits.values() for marker in found))
    shown = ", ".join(f"'{marker}'" for marker in markers)
    columns = ", ".join(f"'{name}'" for name in hits)
    return {"code": "MISSING_MARKER",
            "message": f"{shown} stands where values are missing in {columns}: if it means 'missing', "
                       f"add it to na_values",
            "fix": {"na_values": list(options.na_values) + markers}}
