"""Prefect's clients, as Flowza configures them: one TLS context per certificate setting, not one per client."""

import ssl

from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_TLS_INSECURE_SKIP_VERIFY, PREFECT_API_URL, temporary_settings

from flows.prefect_env import share_tls_contexts

API = "https://prefect.example/api"  # never reached: building a client opens no connection


def _tls(client) -> ssl.SSLContext:
    return client._client._transport._pool._ssl_context  # what httpx opens its connections with


def test_clients_share_one_verifying_tls_context():
    share_tls_contexts()
    with temporary_settings({PREFECT_API_URL: API}):
        first, second = get_client(sync_client=True), get_client(sync_client=True)
        asynchronous = get_client()
    assert _tls(first) is _tls(second) is asynchronous._client._transport._pool._ssl_context
    assert _tls(first).verify_mode == ssl.CERT_REQUIRED and _tls(first).check_hostname
    assert _tls(first).get_ca_certs(), "the CA bundle was not loaded"


def test_skipping_verification_does_not_leak_into_verifying_clients():
    share_tls_contexts()
    with temporary_settings({PREFECT_API_URL: API, PREFECT_API_TLS_INSECURE_SKIP_VERIFY: True}):
        insecure = get_client(sync_client=True)
    with temporary_settings({PREFECT_API_URL: API}):
        verifying = get_client(sync_client=True)
    assert _tls(insecure).verify_mode == ssl.CERT_NONE and not _tls(insecure).check_hostname
    assert _tls(verifying).verify_mode == ssl.CERT_REQUIRED and _tls(verifying).check_hostname
