"""The kinds of named connection and what each holds: public settings (``config``) and an encrypted ``secret``.

A node reads a connection as one dict, ``{"kind": …, **config, **secret}`` (``NodeContext.connection``). Keys
are checked strictly, so a secret put under ``config`` by mistake is refused instead of being shown to everyone.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from flowza_core.errors import FlowzaError


class InvalidConnection(FlowzaError):
    """A connection's kind, settings or secret do not fit (unknown kind, a missing or unknown key)."""

    code = "INVALID_INPUT"


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", str_min_length=1)


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


class PostgresqlConfig(_Part):
    pass


class PostgresqlSecret(_Part):
    url: str

    @field_validator("url")
    @classmethod
    def _postgresql(cls, value: str) -> str:
        # The message never repeats the value: it holds the password.
        try:
            backend = make_url(value).get_backend_name()
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            backend = None
        if backend != "postgresql":
            raise ValueError("must be a PostgreSQL URL: postgresql://user:password@host:port/database")
        return value


class S3Config(_Part):
    endpoint_url: HttpUrl | None = None  # an S3-compatible store (MinIO…)
    region: str | None = None
    bucket: str | None = None


class S3Secret(_Part):
    access_key_id: str
    secret_access_key: str


class HttpConfig(_Part):
    base_url: HttpUrl | None = None


class HttpSecret(_Part):
    headers: dict[str, str]


class OpenaiConfig(_Part):
    base_url: HttpUrl
    model: str


class OpenaiSecret(_Part):
    api_key: str


# kind -> (config model, secret model)
KINDS: dict[str, tuple[type[_Part], type[_Part]]] = {
    "postgresql": (PostgresqlConfig, PostgresqlSecret),
    "s3": (S3Config, S3Secret),
    "http": (HttpConfig, HttpSecret),
    "openai": (OpenaiConfig, OpenaiSecret),
}


def _models(kind: str) -> tuple[type[_Part], type[_Part]]:
    if kind not in KINDS:
        raise InvalidConnection(f"unknown connection kind '{kind}': use one of {', '.join(KINDS)}", field="kind")
    return KINDS[kind]


def secret_fields(kind: str) -> list[str]:
    """The names of a kind's secret values (every one is required)."""
    return list(_models(kind)[1].model_fields)


def check(kind: str, config: dict[str, Any] | None, secret: dict[str, Any] | None
          ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The kind's settings and secret (each when given), checked; ``InvalidConnection`` names every problem,
    by key, never by value (a value may be a secret)."""
    models, problems, checked = _models(kind), [], []
    for model, values, part in ((models[0], config, "config"), (models[1], secret, "secret")):
        try:
            checked.append(None if values is None else model.model_validate(values).model_dump(exclude_none=True))
        except ValidationError as exc:  # its own text repeats the input: only locations and messages are kept
            problems += [f"{'.'.join(str(p) for p in (part, *e['loc']))}: {_message(e)}" for e in exc.errors()]
    if problems:
        raise InvalidConnection(f"{len(problems)} problem(s) in the connection: " + "; ".join(problems))
    return checked[0], checked[1]


def _message(error: dict) -> str:
    if error["type"] == "missing":
        return "required"
    if error["type"] == "extra_forbidden":
        return "not a key of this kind of connection"
    return error["msg"].removeprefix("Value error, ")
