"""How the S3 nodes reach a bucket: whose credentials, which endpoint, what timeouts, and errors in words.

Every message names the bucket, key and endpoint, never the secret key (``Bucket.hide`` takes it out of what a
store answers, too).
"""

from __future__ import annotations

import logging
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator
from ipaddress import ip_address
from urllib.parse import urlsplit

from flowza_core.errors import InvalidParameter, NodeError
from flowza_core.settings import get_settings
from nodes.base import NodeContext, hide_secrets
from nodes.http_guard import ALLOW_HINT, TargetRefused, refusal

if TYPE_CHECKING:
    from nodes.s3 import S3Place

log = logging.getLogger(__name__)

CLIENT_LIMITS = {"connect_timeout": 10, "read_timeout": 60, "retries": {"max_attempts": 3, "mode": "standard"}}
NOT_FOUND = ("404", "NotFound", "NoSuchKey")


class S3Error(NodeError):
    code = "S3_ERROR"


@dataclass(frozen=True)
class Bucket:
    """A bucket, and the client that reaches it."""

    client: Any
    name: str
    shown: str  # the endpoint, as messages show it
    secret: str | None

    def hide(self, text: str) -> str:
        return hide_secrets(text, [self.secret])


def open_bucket(params: S3Place, ctx: NodeContext) -> Bucket:
    """The bucket ``params`` name, reached with its connection's keys and endpoint (or the server's own, in
    single-user mode), with timeouts and retries."""
    import boto3
    from botocore.config import Config

    settings, conn = get_settings(), {}
    if params.connection:
        conn = ctx.connection(params.connection)
        if conn.get("kind") != "s3":
            raise NodeError(f"connection '{params.connection}' is a {conn.get('kind')} connection; the S3 nodes need "
                            f"an s3 connection", code="CONNECTION_KIND", field="connection")
    elif settings.auth_enabled:
        raise InvalidParameter("name an s3 connection: on a multi-user server the server's own S3 credentials are "
                               "not used by workflows", field="connection")
    endpoint = params.endpoint_url or conn.get("endpoint_url") or (None if conn else settings.s3_endpoint_url)
    if endpoint and settings.auth_enabled and not settings.http_allow_private:
        _public(endpoint)
    name = params.bucket or conn.get("bucket")
    if not name:
        raise InvalidParameter("give a bucket" + (f" (connection '{params.connection}' names none)"
                                                  if conn else ""), field="bucket")
    session = boto3.session.Session(aws_access_key_id=conn.get("access_key_id"),
                                    aws_secret_access_key=conn.get("secret_access_key"),
                                    region_name=conn.get("region"))
    # an S3-compatible store usually serves buckets as paths, not as host names
    config = Config(**CLIENT_LIMITS, **({"s3": {"addressing_style": "path"}} if endpoint else {}))
    client = session.client("s3", endpoint_url=endpoint, config=config)
    parts = urlsplit(endpoint) if endpoint else None
    shown = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}" if parts else "AWS S3"
    return Bucket(client, name, shown, conn.get("secret_access_key"))


def _public(endpoint: str) -> None:
    """On a multi-user server a user's endpoint is a public host, as http_request's URLs are: no loopback, private
    or metadata-service address (FLOWZA_HTTP_ALLOW_PRIVATE allows them)."""
    parts = urlsplit(endpoint)
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise S3Error(f"cannot resolve the S3 endpoint's host '{parts.hostname}': check endpoint_url",
                      code="S3_UNREACHABLE", field="endpoint_url") from None
    for address in dict.fromkeys(info[4][0] for info in infos):
        if reason := refusal(ip_address(address.split("%", 1)[0])):
            log.info("refused the S3 endpoint %s (%s): %s", parts.hostname, address, reason)
            raise TargetRefused(f"S3 endpoint {parts.hostname} refused: it is {reason}; on a multi-user server the "
                                f"S3 nodes reach only public hosts ({ALLOW_HINT})", field="endpoint_url")


@contextmanager
def s3_errors(bucket: Bucket, key: str | None = None, *, precondition: str = "") -> Iterator[None]:
    """botocore's errors as node errors naming the bucket, key and endpoint (never the secret)."""
    from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError
    from botocore.exceptions import ConnectionError as EndpointUnreachable
    from botocore.exceptions import ParamValidationError

    where = f"s3://{bucket.name}/{key}" if key is not None else f"bucket '{bucket.name}'"
    try:
        yield
    except ClientError as exc:
        raise _answer_error(exc, bucket, key, precondition) from None
    except NoCredentialsError:
        raise S3Error("no S3 credentials: name an s3 connection holding an access key", code="S3_ACCESS_DENIED",
                      field="connection") from None
    except (EndpointUnreachable, HTTPClientError) as exc:
        log.info("S3 endpoint %s unreachable: %s", bucket.shown, bucket.hide(str(exc)))
        raise S3Error(f"cannot reach the S3 endpoint {bucket.shown} ({type(exc).__name__}, after retries): check "
                      f"endpoint_url and that the store is running", code="S3_UNREACHABLE",
                      field="endpoint_url") from None
    except ParamValidationError as exc:
        raise InvalidParameter(f"{where}: {bucket.hide(str(exc))}") from None
    except BotoCoreError as exc:  # its text may repeat what the endpoint answered: logged, not shown
        log.info("S3 request to %s failed: %s", bucket.shown, bucket.hide(str(exc)))
        raise S3Error(f"{where} at {bucket.shown}: the request failed ({type(exc).__name__}); is the endpoint an "
                      f"S3 API?", field="endpoint_url") from None


def _answer_error(exc, bucket: Bucket, key: str | None, precondition: str) -> NodeError:
    error = exc.response.get("Error", {})
    code, message = str(error.get("Code", "")), bucket.hide(str(error.get("Message", "")))[:300]
    log.info("S3 answered %s for %s/%s: %s", code, bucket.name, key, message)
    where = f"s3://{bucket.name}/{key}" if key is not None else f"bucket '{bucket.name}'"
    if code == "NoSuchBucket" or (code in NOT_FOUND and not bucket_exists(bucket)):
        return S3Error(f"bucket '{bucket.name}' does not exist at {bucket.shown}: check the bucket name (and the "
                       f"endpoint)", code="S3_NOT_FOUND", field="bucket")
    if code in NOT_FOUND:
        return S3Error(f"no object {where} at {bucket.shown}: check the key", code="S3_NOT_FOUND", field="key")
    if code in ("PreconditionFailed", "412") and precondition:
        return S3Error(precondition, code="S3_CONFLICT", field="key")
    if code == "InvalidAccessKeyId":
        return S3Error(f"the store at {bucket.shown} does not know the access key id: check the connection's "
                       f"access_key_id", code="S3_ACCESS_DENIED", field="connection")
    if code == "SignatureDoesNotMatch":
        return S3Error(f"the store at {bucket.shown} refused the request's signature: check the connection's "
                       f"secret_access_key", code="S3_ACCESS_DENIED", field="connection")
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled"):
        return S3Error(f"access denied to {where} at {bucket.shown}: the credentials may not do this (check the "
                       f"connection's keys and their permissions)", code="S3_ACCESS_DENIED", field="connection")
    if code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "301"):
        return S3Error(f"bucket '{bucket.name}' is in another region: set the connection's region",
                       code="S3_ERROR", field="connection")
    return S3Error(f"{where} at {bucket.shown}: the store answered {code or 'an error'}"
                   f"{': ' + message if message else ''}")


def bucket_exists(bucket: Bucket) -> bool:
    """Whether the bucket is there (a HEAD's 404 does not say whether the bucket or the key is missing)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        bucket.client.head_bucket(Bucket=bucket.name)
    except ClientError as exc:
        return exc.response.get("Error", {}).get("Code") not in (*NOT_FOUND, "NoSuchBucket")
    except BotoCoreError:
        pass
    return True
