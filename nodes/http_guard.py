"""Which addresses http_request may reach, checked where the connection is made.

A URL's host is resolved once, every address it resolves to is checked, and the socket connects to a checked
address: a name that resolves to a public address for the check and to 127.0.0.1 a moment later (DNS rebinding)
never gets a connection. Every redirect opens its connection through the same check.
"""

from __future__ import annotations

import logging
import socket
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

import httpcore
import httpx

from flowza_core.errors import NodeError
from flowza_core.settings import get_settings

log = logging.getLogger(__name__)

NAT64 = ip_network("64:ff9b::/96")  # IPv6 addresses that carry an IPv4 address in their last 32 bits
ALLOW_HINT = "set FLOWZA_HTTP_ALLOW_PRIVATE=true on the server to allow non-public addresses"


class TargetRefused(NodeError):
    code = "HTTP_TARGET_REFUSED"


def refusal(address: IPv4Address | IPv6Address) -> str | None:
    """Why a request may not go to ``address`` (e.g. "loopback"), or None for a public address."""
    if isinstance(address, IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (
            IPv4Address(int(address) & 0xFFFFFFFF) if address in NAT64 else None)
        if embedded is not None and (reason := refusal(embedded)):
            return f"{reason}, written as an IPv6 address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (where cloud metadata services answer)"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, IPv6Address) and address.is_site_local:
        return "a site-local address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "not a public address"
    return None


def checked_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """The addresses ``host`` resolves to, each allowed; a node error when any is refused or none is found."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve host '{host}': {getattr(exc, 'strerror', None) or exc}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        for address in addresses:
            reason = refusal(ip_address(address.split("%", 1)[0]))  # fe80::1%eth0: the scope is no part of it
            if reason:
                shown = host if host == address else f"{host} ({address})"
                log.info("refused a request to %s: %s", shown, reason)
                raise TargetRefused(f"request to {shown} refused: it is {reason}; requests from workflows reach only "
                                    f"public hosts ({ALLOW_HINT})", field="url")
    return addresses


class GuardedBackend(httpcore.SyncBackend):
    """Opens TCP connections only to checked addresses, and to exactly the addresses it checked.

    FLOWZA_HTTP_ALLOW_PRIVATE is read at each connection, so a changed setting applies to the next one.
    """

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        last: Exception | None = None
        for address in checked_addresses(host, port, get_settings().http_allow_private):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"host '{host}' has no address")

    def connect_unix_socket(self, *args, **kwargs):
        raise TargetRefused("requests from workflows do not connect to Unix sockets")


def guarded_transport() -> httpx.HTTPTransport:
    """An httpx transport whose connections go through ``GuardedBackend`` (no proxies, TLS verified).

    httpx has no option for the network backend, so the pool is rebuilt as httpx builds it, with ours.
    """
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(trust_env=False),
                                              network_backend=GuardedBackend())
    return transport


__all__ = ["TargetRefused", "checked_addresses", "guarded_transport", "refusal"]
