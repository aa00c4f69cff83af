"""PostgreSQL nodes: read a query's rows as a table, write a table into the database.

The database URL is a named connection's secret (``ctx.connection``): parameters hold only its name, and every
message shows the URL without its password. User values reach the server only as bound parameters and names
(tables, schemas, columns) only quoted by SQLAlchemy, never formatted into SQL. A query runs in a read-only
transaction with a server-side timeout; a write runs in one transaction, so a failure leaves the target as it was.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import re
import uuid
from typing import Iterator, Literal

import pandas as pd
import sqlalchemy as sa
from pydantic import ConfigDict, Field, field_validator, model_validator
from sqlalchemy.dialects.postgresql import insert as pg_insert

from flowza_core.errors import DatasetTooLarge, InvalidData, InvalidParameter, MissingColumn, NodeError
from nodes.base import NodeContext, Params, always_run, node
from nodes.sql_connection import connection_field, database_error, database_url, transaction
from nodes.ports import Dataset, Json

log = logging.getLogger(__name__)

MAX_IDENTIFIER_BYTES = 63  # PostgreSQL silently truncates longer names, which can make two columns one
BATCH_ROWS = 10_000  # rows per executemany call: bounds the memory a million-row write holds at once
LOCK_TIMEOUT_S = 60
BIND_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
READING_STATEMENT = re.compile(r"^\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*\(*\s*(select|with|values|table)\b",
                               re.IGNORECASE | re.DOTALL)
Scalar = str | int | float | bool | None



# --- sql_query -----------------------------------------------------------------------------------------------------

class SqlQueryParams(Params):
    connection: str = connection_field()
    query: str = Field(..., min_length=1, max_length=100_000, title="Query",
                       description="A SELECT (or WITH … SELECT, VALUES, TABLE). Put values in as :name and give "
                                   "them under parameters, never inside the SQL text.",
                       json_schema_extra={"multiline": True, "code": "sql"})
    parameters: dict[str, Scalar | list[Scalar]] = Field(
        default_factory=dict, title="Parameters",
        description="Values bound to the query's :name placeholders (a list works with = ANY(:name)).")
    row_limit: int = Field(100_000, ge=1, le=10_000_000, title="Row limit",
                           description="At most this many rows are read; a warning says when there were more.")
    timeout_s: float = Field(30, gt=0, le=3600, title="Timeout (s)",
                             description="The server stops the query after this many seconds.",
                             json_schema_extra={"advanced": True})

    @field_validator("parameters")
    @classmethod
    def _bind_names(cls, value: dict) -> dict:
        bad = [name for name in value if not BIND_NAME.match(name)]
        if bad:
            raise ValueError(f"parameter names are letters, digits and '_', not starting with a digit: {bad[:5]}")
        return value

    @field_validator("query")
    @classmethod
    def _reads(cls, value: str) -> str:
        if "\0" in value:
            raise ValueError("the query holds a NUL character")
        if not READING_STATEMENT.match(value):
            raise ValueError("sql_query only reads: give a SELECT (or WITH … SELECT, VALUES, TABLE); write tables "
                             "with a db_write node")
        return value


QUERY_HINTS = {
    "42601": "Check the SQL syntax; give values as :name placeholders, not inside quotes",
    "42P01": "Check the table name and its schema (schema.table)",
    "42703": "Check the column names",
    "25006": "sql_query runs in a read-only transaction: write tables with a db_write node",
    "42501": "The connection's database user may not read this",
    "0A000": "sql_query only reads: write tables with a db_write node",
}


def _column(values: pd.Series) -> pd.Series:
    """Driver values the table types understand: numbers for NUMERIC, dates as datetimes, text for the rest."""
    sample = values.dropna()
    if values.dtype != object or sample.empty:
        return values
    first = sample.iloc[0]
    if isinstance(first, decimal.Decimal):
        return values.astype(float)
    if isinstance(first, dt.date) and not isinstance(first, dt.datetime):
        return pd.to_datetime(values)
    if isinstance(first, (dict, list)):
        return values.map(lambda v: None if v is None else json.dumps(v, default=str))
    if isinstance(first, (uuid.UUID, dt.time, memoryview, bytes)):
        return values.map(lambda v: None if v is None else (bytes(v).hex() if isinstance(v, (memoryview, bytes))
                                                             else str(v)))
    return values


@node(category="data input", cache_salt=always_run)
def sql_query(params: SqlQueryParams, ctx: NodeContext) -> Dataset:
    """Run a read-only SQL query on a PostgreSQL connection and output its rows as a table."""
    url = database_url(ctx, params.connection)
    statement = sa.text(params.query)
    placeholders = set(statement.compile().params)
    missing = sorted(placeholders - set(params.parameters))
    if missing:
        raise InvalidParameter(f"the query uses {', '.join(':' + m for m in missing)} but parameters gives no "
                               f"value for {'it' if len(missing) == 1 else 'them'} (a colon that starts no "
                               f"placeholder, as in 'at :noon', is written \\:)", field="parameters")
    unused = sorted(set(params.parameters) - placeholders)
    if unused:
        ctx.warn("UNUSED_PARAMETERS", f"the query has no placeholder for parameter(s) {', '.join(unused)}")
    limit = min(params.row_limit, ctx.sample_rows or params.row_limit)
    with transaction(url, params.connection) as conn:
        try:
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            # SET LOCAL statement_timeout, in its form that takes a bound value: ends with the transaction
            conn.execute(sa.text("SELECT set_config('statement_timeout', :ms, true)"),
                         {"ms": str(max(1, round(params.timeout_s * 1000)))})
            # a server-side cursor: only the rows fetched travel, however many the query matches
            result = conn.execution_options(stream_results=True).execute(statement, params.parameters)
            columns = list(result.keys())
            rows = [tuple(row) for row in result.fetchmany(limit + 1)]  # plain tuples: a frame builds ~7x faster
            result.close()
        except sa.exc.DBAPIError as exc:
            raise database_error(exc, url, "the query", QUERY_HINTS, params.timeout_s) from None
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise InvalidData(f"the query returns more than one column named {', '.join(map(repr, duplicates))}: "
                          f"give each a different name with AS", field="query")
    if len(rows) > limit and not ctx.sample_rows:
        ctx.warn("ROW_LIMIT_REACHED", f"the query returned more than {limit:,} rows; only the first {limit:,} were "
                 f"read (raise row_limit, or narrow the query)", fix={"row_limit": min(limit * 10, 10_000_000)})
    frame = pd.DataFrame.from_records(rows[:limit], columns=columns, coerce_float=True)
    frame = frame.apply(_column) if len(frame.columns) else frame
    size_mb = frame.memory_usage(deep=True).sum() / 2**20
    if size_mb > ctx.max_dataset_mb:
        raise DatasetTooLarge(f"the query's rows take {size_mb:.0f} MB; the limit is {ctx.max_dataset_mb:g} MB "
                              f"(FLOWZA_MAX_DATASET_MB): lower row_limit or select fewer columns", field="row_limit")
    return Dataset(frame)


# --- db_write ------------------------------------------------------------------------------------------------------

def _identifier_problem(name: str) -> str | None:
    if not name:
        return "it is empty"
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        return f"it is longer than PostgreSQL's {MAX_IDENTIFIER_BYTES} bytes"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "it holds NUL, line breaks or other control characters"
    if name != name.strip():
        return "it starts or ends with a space"
    return None


class DbWriteParams(Params):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)  # the field is 'schema' to users

    connection: str = connection_field()
    table: str = Field(..., title="Table", description="Table to write (created by modes create, replace, upsert).")
    schema_: str | None = Field(None, alias="schema", title="Schema",
                                description="The table's schema (default: the connection's search path, "
                                            "usually 'public').")
    mode: Literal["create", "append", "replace", "upsert"] = Field(
        "create", title="Mode", description="create: a new table (fails if it exists); append: add rows; replace: "
                                            "drop and write it anew; upsert: insert, or update rows with equal keys.")
    key_columns: list[str] = Field(
        default_factory=list, title="Key columns",
        description="upsert: the columns that identify a row (need a primary key or unique index on them). "
                    "create / replace: made the new table's primary key.",
        json_schema_extra={"column_of": "dataset"})

    @field_validator("table", "schema_")
    @classmethod
    def _identifier(cls, value: str | None) -> str | None:
        if value is not None and (problem := _identifier_problem(value)):
            raise ValueError(f"not a usable PostgreSQL name: {problem}")
        return value

    @model_validator(mode="after")
    def _keys_fit_mode(self):
        if self.mode == "upsert" and not self.key_columns:
            raise ValueError("mode 'upsert' needs key_columns: the columns that identify a row")
        if self.mode == "append" and self.key_columns:
            raise ValueError("mode 'append' does not use key_columns (create, replace and upsert do)")
        if len(set(self.key_columns)) != len(self.key_columns):
            raise ValueError("key_columns names a column twice")
        return self


WRITE_HINTS = {
    "23502": "A column that does not allow NULL got an empty value: fill or drop those rows first",
    "23505": "A row repeats a key the table already holds: use mode 'upsert', or drop duplicates",
    "22P02": "A value does not fit the column's type: convert the column first",
    "22003": "A number is out of the column's range",
    "42P10": "upsert needs a primary key or unique index on exactly the key_columns; add one to the table",
    "2BP01": "Other objects (views…) depend on the table, so replace cannot drop it: use append, or drop them first",
    "3F000": "Create the schema first, or leave schema empty",
    "42501": "The connection's database user may not write here",
    "55P03": "Another session holds a lock on the table: try again when it has finished",
}


def _sql_type(values: pd.Series) -> sa.types.TypeEngine:
    if pd.api.types.is_bool_dtype(values):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(values):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(values):
        return sa.Double()
    if pd.api.types.is_datetime64_any_dtype(values):
        return sa.DateTime(timezone=getattr(values.dtype, "tz", None) is not None)
    return sa.Text()


def _cell(value, text: bool):
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None  # NaN, NaT, pd.NA: SQL NULL
    if text and not isinstance(value, str):
        return json.dumps(value, default=str) if isinstance(value, (list, dict)) else str(value)
    return value


def _batches(frame: pd.DataFrame, table: sa.Table) -> Iterator[list[dict]]:
    """Rows as driver values keyed like the table's columns, BATCH_ROWS at a time."""
    keys = [c.key for c in table.columns]
    text = [isinstance(c.type, (sa.Text, sa.String)) for c in table.columns]
    for start in range(0, len(frame), BATCH_ROWS):
        chunk = frame.iloc[start:start + BATCH_ROWS].astype(object)  # numpy scalars become Python ones
        yield [{k: _cell(v, t) for k, v, t in zip(keys, row, text)} for row in chunk.itertuples(index=False)]


def _target(name: str, schema: str | None, columns: list[str], types: list, keys: list[str]) -> sa.Table:
    # Column keys c0, c1… name the bound values, so no column name ever has to become a bind name
    cols = [sa.Column(sa.sql.quoted_name(c, quote=None), t, key=f"c{i}", primary_key=c in keys,
                      nullable=c not in keys) for i, (c, t) in enumerate(zip(columns, types))]
    return sa.Table(name, sa.MetaData(), *cols, schema=schema)


def _check_columns(frame: pd.DataFrame, keys: list[str]) -> list[str]:
    """The table's column names, once each is a usable PostgreSQL name and the keys identify rows."""
    columns = [str(c) for c in frame.columns]
    if not columns:
        raise InvalidData("the table has no columns to write")
    for name in columns:
        if problem := _identifier_problem(name):
            raise InvalidData(f"column {name[:80]!r} cannot be a PostgreSQL column name: {problem}; rename it")
    if len(set(columns)) != len(columns):
        raise InvalidData("the table has two columns with the same name; rename one")
    if missing := [k for k in keys if k not in columns]:
        raise MissingColumn(f"key_columns {missing} are not columns of the table", field="key_columns")
    frame = frame.set_axis(columns, axis=1)
    if keys and frame[keys].isna().any().any():
        raise InvalidData("a key column has empty values; every row needs a key", field="key_columns")
    if keys and frame.duplicated(keys).any():
        raise InvalidData(f"rows repeat the same key_columns values {keys}: drop the duplicates first",
                          field="key_columns")
    return columns


@node(category="output", cache_salt=always_run)
def db_write(dataset: Dataset, params: DbWriteParams, ctx: NodeContext) -> Json:
    """Write the table into a PostgreSQL table (create, append, replace or upsert), all in one transaction."""
    if ctx.sample_rows:
        raise NodeError("db_write does not write while previewing a sample: run the workflow", code="PREVIEW_ONLY")
    keys = params.key_columns
    columns = _check_columns(dataset.frame, keys)
    frame = dataset.frame.set_axis(columns, axis=1)
    url = database_url(ctx, params.connection)
    where = f"{params.schema_ + '.' if params.schema_ else ''}{params.table}"
    with transaction(url, params.connection) as conn:
        try:
            # waiting for another session's lock ends with an error, not a run that never finishes
            conn.execute(sa.text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": str(LOCK_TIMEOUT_S * 1000)})
            exists = sa.inspect(conn).has_table(params.table, schema=params.schema_)
            if params.mode == "create" and exists:
                raise NodeError(f"table '{where}' already exists: choose mode append, replace or upsert",
                                code="TABLE_EXISTS", field="table")
            if params.mode == "append" and not exists:
                raise NodeError(f"table '{where}' does not exist: choose mode create", code="TABLE_NOT_FOUND",
                                field="table")
            if exists and params.mode in ("append", "upsert"):
                known = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns(params.table, params.schema_)}
                if unknown := [c for c in columns if c not in known]:
                    raise MissingColumn(f"table '{where}' has no column(s) {unknown[:10]}: drop or rename them, or "
                                        f"use mode replace", field="table")
                table = _target(params.table, params.schema_, columns, [known[c] for c in columns], keys)
            else:
                table = _target(params.table, params.schema_, columns, [_sql_type(frame[c]) for c in columns], keys)
                if exists:  # replace: inside the transaction, so the old table returns if anything fails
                    table.drop(conn)
                table.create(conn)
            statement = table.insert()
            if params.mode == "upsert":
                statement = pg_insert(table)
                updates = {c: statement.excluded[c.key] for c in table.columns if c.name not in keys}
                key_cols = [table.columns[f"c{columns.index(k)}"] for k in keys]
                statement = (statement.on_conflict_do_update(index_elements=key_cols, set_=updates) if updates
                             else statement.on_conflict_do_nothing(index_elements=key_cols))
            written = 0
            for batch in _batches(frame, table):
                conn.execute(statement, batch)
                written += len(batch)
        except sa.exc.DBAPIError as exc:
            raise database_error(exc, url, f"writing table '{where}'", WRITE_HINTS) from None
        except ValueError as exc:  # the driver refuses a value before sending it
            if "NUL" not in str(exc):
                raise
            raise InvalidData(f"writing table '{where}' failed: a text value holds a NUL character, which "
                              f"PostgreSQL cannot store; remove it first") from None
    ctx.logger.info("wrote %d rows to %s (%s)", written, where, params.mode)
    return Json({"table": params.table, "schema": params.schema_, "mode": params.mode, "rows_written": written})
