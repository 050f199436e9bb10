"""Destination URLs and server-side request forgery: only http and https, and a host whose every
address is public — private, loopback, link-local, multicast, reserved and unspecified addresses
are refused unless the configuration allow-lists them (`webhooks.allow_private`).

The host is resolved and *every* address is checked (a name that resolves to one public and one
private address is refused). Delivery checks again before sending (a name may change its records
after the subscription was created); answers are cached for `CACHE_S`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

from crossdock.errors import CrossdockError

CACHE_S = 30.0
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class DestinationRefused(CrossdockError, ValueError):
    """A URL we must not send to; the message says why (for a 422 problem on `/url`)."""


def _is_internal(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


class DestinationPolicy:
    """Checks destination URLs against the scheme rule and the private-address guard."""

    def __init__(self, allow_private: Sequence[str] = ()) -> None:
        self.allowed: list[IPNetwork] = [
            ipaddress.ip_network(net, strict=False) for net in allow_private
        ]
        self._cache: dict[tuple[str, int], tuple[float, list[IPAddress]]] = {}
        self._passed: dict[str, float] = {}  # URL -> until when its last check holds

    def check_syntax(self, url: str) -> tuple[str, int]:
        """The host and port of an http(s) URL; `DestinationRefused` otherwise."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise DestinationRefused("not a URL") from None
        if parts.scheme not in ("http", "https"):
            raise DestinationRefused("only http and https URLs can receive webhooks")
        if not parts.hostname:
            raise DestinationRefused("the URL has no host")
        if parts.username is not None or parts.password is not None:
            raise DestinationRefused("the URL must not contain credentials")
        return parts.hostname, port or (443 if parts.scheme == "https" else 80)

    def allows(self, address: IPAddress) -> bool:
        if not _is_internal(address):
            return True
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in net for net in self.allowed)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        cached = self._cache.get((host, port))
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise DestinationRefused(f"the host {host} does not resolve") from exc
        addresses = sorted({ipaddress.ip_address(info[4][0]) for info in infos}, key=str)
        if not addresses:
            raise DestinationRefused(f"the host {host} does not resolve")
        self._cache[(host, port)] = (now + CACHE_S, addresses)
        return addresses

    async def check(self, url: str) -> None:
        """Raise `DestinationRefused` unless `url` may receive webhooks."""
        now = time.monotonic()
        if self._passed.get(url, 0.0) > now:
            return
        host, port = self.check_syntax(url)
        for address in await self.resolve(host, port):
            if not self.allows(address):
                raise DestinationRefused(
                    f"{host} resolves to {address}, a private, loopback or link-local address "
                    "(allow it in webhooks.allow_private)"
                )
        if len(self._passed) > 10_000:
            self._passed.clear()
        self._passed[url] = now + CACHE_S
