"""How Flowza reads a CSV: one implementation for the csv_loader node, the upload check and the dataset preview.

Files come as they come: LF, CRLF or CR-only (old Mac) line endings, a UTF-8 byte-order mark, quoted fields
holding line breaks. pandas' C and python parsers take all of these as they are (tests/nodes/test_csv_reading.py
holds that in place, across the parser's chunk boundaries too), so the file is handed to pandas untouched and
nothing is rewritten. One exception in how it is handed over: pandas' parallel reader (files over 5 MB) splits
a file at LF bytes; on a CR-only file it first reads the whole file looking for one, then falls back to the
serial parser. Such a file goes to pandas as an open file, which takes the serial parser straight away.

A data row with more fields than the header is refused: pandas would make its first fields the row index and
shift every column, silently. One such file is common and harmless: each data line ends with a separator the
header line lacks (``a,b`` over ``1,2,``). Its rows are read without that empty field, and the frame says so
in ``attrs[TRAILING_SEPARATOR]`` for csv_checks to report; a value there is refused, naming its line.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from pandas.io.parsers.readers import STR_NA_VALUES
from pydantic import Field, field_validator

from flowza_core.errors import EmptyData, InvalidParameter, NodeError, ParseError
from nodes.base import Params

HEAD_BYTES = 64 * 1024  # enough lines to judge a separator by
FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
SEPARATORS = {";": "';'", "\t": "a tab", "|": "'|'", ",": "','"}  # the usual ones, as a message names them
TRAILING_SEPARATOR = "flowza_trailing_separator"  # frame.attrs key: each row's empty last field was left out
EXTRA = "\x00extra field"  # the name the field after the header's last column is read under


class CsvReadOptions(Params):
    """How a CSV's text becomes a table; the csv_loader's reading parameters and the upload preview's."""

    separator: str = Field(",", min_length=1, max_length=4, title="Separator",
                           description="One character; longer is a regular expression (e.g. \\s+).",
                           json_schema_extra={"advanced": True})
    encoding: str = Field("utf-8", title="Encoding", json_schema_extra={"advanced": True})
    has_header: bool = Field(True, title="First row holds the column names",
                             description="Off when the file starts with data: columns are then named "
                                         "column_1, column_2, … or by column_names.")
    column_names: list[str] | None = Field(None, title="Column names",
                                           description="A name for every column: names a file without a header, "
                                                       "or replaces the header's names.",
                                           json_schema_extra={"advanced": True})
    na_values: list[str] = Field([], title="Missing-value markers",
                                 description="Extra values that mean 'missing', such as ? or -; empty, NA, NaN, "
                                             "null and the like always count.")
    skip_initial_space: bool = Field(False, title="Skip spaces after separators",
                                     description="For files written as 'a, b, c': drops the space that "
                                                 "follows each separator.",
                                     json_schema_extra={"advanced": True})

    @field_validator("separator")
    @classmethod
    def _separator_is_not_a_line_break(cls, value: str) -> str:
        if any(ch in value for ch in '\r\n"'):
            raise ValueError("a separator cannot hold a line break or a double quote")
        if len(value) > 1:  # pandas takes a longer separator as a regular expression
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"a separator longer than one character is a regular expression, and "
                                 f"'{value}' is not a valid one ({exc})") from None
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            known = codecs.lookup(value)._is_text_encoding
        except LookupError:
            known = False
        if not known:
            raise ValueError(f"unknown encoding '{value}' (e.g. utf-8, latin-1, cp1252, utf-16)")
        return value

    @field_validator("column_names")
    @classmethod
    def _distinct_names(cls, names: list[str] | None) -> list[str] | None:
        if any(not name.strip() for name in names or []):
            raise ValueError("every column name needs at least one visible character")
        repeated = sorted({name for name in names or [] if names.count(name) > 1})
        if repeated:
            raise ValueError(f"each column name may appear once; repeated: {', '.join(repeated)}")
        return names


def pandas_arguments(options: CsvReadOptions) -> dict:
    """``pd.read_csv`` keyword arguments for ``options``; pandas' own missing markers stay on."""
    return {"sep": options.separator, "encoding": options.encoding, "header": 0 if options.has_header else None,
            "na_values": options.na_values or None, "skipinitialspace": options.skip_initial_space}


def read_csv(path: Path, options: CsvReadOptions, *, nrows: int | None = None, skip: int = 0,
             label: str | None = None) -> pd.DataFrame:
    """The table in ``path`` as Flowza reads it: ``skip`` data rows, then at most ``nrows`` of them.

    ``label`` names the file in error messages (default: its name). An empty file, or one with a header and
    no rows, is ``EmptyData`` when nothing was skipped.
    """
    label = label or path.name
    skiprows = (range(1, skip + 1) if options.has_header else skip) if skip else None
    try:
        trailing = options.has_header and _trailing_separator(path, options, skip, label)
        arguments = pandas_arguments(options) | (_with_extra_field(path, options) if trailing else {})
        with _source(path) as source:
            frame = pd.read_csv(source, **arguments, nrows=nrows, skiprows=skiprows)
        if trailing:
            frame = _drop_empty_extra_field(frame, label, skip)
    except pd.errors.EmptyDataError as exc:
        raise EmptyData(f"{label} is empty") from exc
    except UnicodeError as exc:
        where = f"{exc.reason} at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise ParseError(f"{label} is not {options.encoding} text ({where}): {_encoding_hint(path)}",
                         field="encoding") from exc
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        if found := FIELD_COUNT.search(str(exc)):  # a row with more fields than the ones before it
            raise _wider_row(path, options, label, int(found[2]), int(found[3])) from exc
        raise ParseError(f"could not parse {label}: {str(exc).splitlines()[0][:300]}; "
                         f"check the separator and encoding{_separator_hint(path, options)}") from exc
    except LookupError as exc:  # the model checks the name; a codec can still be missing where this runs
        raise InvalidParameter(f"unknown encoding '{options.encoding}'", field="encoding") from exc
    except OSError as exc:  # its own message names the absolute path: not for users
        raise NodeError(f"{label} cannot be read: {exc.strerror or type(exc).__name__}",
                        code="FILE_NOT_READABLE") from exc
    if frame.empty and not skip:
        raise EmptyData(f"{label} has a header but no rows" if options.has_header and len(frame.columns)
                        else f"{label} has no rows")
    frame.columns = _column_names(frame, options, label)
    return frame


@contextmanager
def _source(path: Path) -> Iterator[Path | BinaryIO]:
    """``path``, or for a CR-only file the open file (see the module's docstring)."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
        if b"\r" in head and b"\n" not in head:
            fh.seek(0)
            yield fh
            return
    yield path


def _trailing_separator(path: Path, options: CsvReadOptions, skip: int, label: str) -> bool:
    """Whether the first data row has one field more than the header, and that field is empty.

    pandas does not refuse a first data row (nor the first of a page) wider than the header: it makes the
    extra fields the row index. Read as plain fields, the header, that row and the page's first row are
    checked here; any other wider first row is refused. Wider rows further down are tokenizer errors.
    """
    plain = pandas_arguments(options) | {"header": None, "na_values": None, "dtype": str, "na_filter": False,
                                         "skiprows": range(2, skip + 1) if skip > 1 else None,
                                         "nrows": 3 if skip else 2}
    try:
        with _source(path) as source:
            pd.read_csv(source, **plain)
        return False
    except pd.errors.ParserError as exc:
        columns, line, fields = _field_count(exc)
    if line != 2 or fields != columns + 1:
        raise _wider_row(path, options, label, line, fields, columns)
    try:  # again with room for the extra field: the first row's, and a page's first row is no wider
        with _source(path) as source:
            first = pd.read_csv(source, **plain, names=range(fields))
    except pd.errors.ParserError as exc:
        _, line, fields = _field_count(exc)
        raise _wider_row(path, options, label, line, fields, columns) from exc
    if not _is_empty(first.iat[1, -1]):
        raise _wider_row(path, options, label, 2, fields, columns)
    return True


def _field_count(exc: pd.errors.ParserError) -> tuple[int, int, int]:
    """(fields expected, line, fields seen) of a tokenizer error; other parser errors are raised again."""
    found = FIELD_COUNT.search(str(exc))
    if not found:
        raise exc
    return int(found[1]), int(found[2]), int(found[3])


def _with_extra_field(path: Path, options: CsvReadOptions) -> dict:
    """``pd.read_csv`` arguments that read one field more than the header names, as ``EXTRA``, unconverted:
    'NA' there is a value, not a gap."""
    with _source(path) as source:
        names = [str(name) for name in pd.read_csv(source, **pandas_arguments(options), nrows=0).columns]
    missing = list(STR_NA_VALUES) + list(options.na_values)
    return {"names": names + [EXTRA], "keep_default_na": False,
            "na_values": {name: missing for name in names} | {EXTRA: []}, "dtype": {EXTRA: str}}


def _drop_empty_extra_field(frame: pd.DataFrame, label: str, skip: int) -> pd.DataFrame:
    filled = frame[EXTRA].str.strip().fillna("").ne("")
    if filled.any():
        row = int(filled.to_numpy().argmax())
        raise ParseError(f"line {skip + row + 2} of {label} has a value after its last column "
                         f"('{str(frame[EXTRA].iat[row])[:40]}'), where the other lines end with an empty field: "
                         f"check the separator and the quoting (a value holding the separator needs double "
                         f"quotes), or name that column in the header")
    frame = frame.drop(columns=EXTRA)
    frame.attrs[TRAILING_SEPARATOR] = True
    return frame


def _is_empty(value) -> bool:
    return pd.isna(value) or not str(value).strip()


def _wider_row(path: Path, options: CsvReadOptions, label: str, line: int, fields: int,
               columns: int | None = None) -> ParseError:
    """The error for a row with more fields than the header (or, without a header, than the first line)."""
    if columns is None:
        columns = _header_width(path, options)
    count = f"{columns} column{'s' if columns != 1 else ''}"
    than = f"the header names {count}" if options.has_header else f"the first line has {count}"
    hint = _separator_hint(path, options)
    if not hint and options.has_header and line == 2 and fields == columns + 1:
        hint = "; if each line starts with a row name (as R writes them), name that column at the start of the header"
    return ParseError(f"line {line} of {label} has {fields} fields but {than}: check the separator and the "
                      f"quoting (a value holding the separator needs double quotes), or fix that line so every "
                      f"row has one field per column{hint}")


def _header_width(path: Path, options: CsvReadOptions) -> int:
    plain = pandas_arguments(options) | {"header": None, "na_values": None, "dtype": str, "na_filter": False}
    with _source(path) as source:
        return len(pd.read_csv(source, **plain, nrows=1).columns)


def _column_names(frame: pd.DataFrame, options: CsvReadOptions, label: str) -> list[str]:
    if options.column_names is not None:
        if len(options.column_names) != len(frame.columns):
            raise InvalidParameter(f"column_names gives {len(options.column_names)} names but {label} has "
                                   f"{len(frame.columns)} columns: give one name per column",
                                   field="column_names")
        return list(options.column_names)
    if not options.has_header:
        return [f"column_{i + 1}" for i in range(len(frame.columns))]
    return [str(name) for name in frame.columns]


def _separator_hint(path: Path, options: CsvReadOptions) -> str:
    better = guess_separator(read_head(path, options), options.separator)
    return f"; the lines look split by {SEPARATORS[better]}: set the separator to {SEPARATORS[better]}" \
        if better else ""


def guess_separator(head: str, current: str) -> str | None:
    """Another usual separator that splits (nearly) every one of the first lines the same number of times."""
    lines = [line for line in head.splitlines() if line.strip()][:100]
    best, best_share = None, 0.0
    for candidate in SEPARATORS:
        counts = pd.Series([line.count(candidate) for line in lines], dtype="int64")
        if candidate == current or counts.empty or counts.mode()[0] == 0:
            continue
        share = (counts == counts.mode()[0]).mean()
        if share >= 0.9 and share > best_share:
            best, best_share = candidate, share
    return best


def _encoding_hint(path: Path) -> str:
    with open(path, "rb") as fh:
        start = fh.read(4)
    if start.startswith(UTF16_BOMS):
        return "the file starts with a UTF-16 byte-order mark: set encoding to utf-16"
    return "set the encoding the file was saved in (e.g. latin-1, cp1252)"


def read_head(path: Path, options: CsvReadOptions, max_bytes: int = HEAD_BYTES) -> str:
    """The file's first complete lines as text (at most ``max_bytes``), without a byte-order mark."""
    with open(path, "rb") as fh:
        raw = fh.read(max_bytes)
        more = bool(fh.read(1))
    try:
        text = codecs.getincrementaldecoder(options.encoding)(errors="replace").decode(raw, final=not more)
    except UnicodeError:  # some codecs refuse even with errors="replace" (UTF-16 without its byte-order mark)
        return ""
    text = text.removeprefix("\ufeff")
    if more:  # the last line may be cut short: keep whole lines only
        end = max(text.rfind("\n"), text.rfind("\r"))
        text = text[:end + 1] if end > 0 else text
    return text
