"""Refuse to fetch from addresses a public crawler has no business reaching (SSRF guard).

Every URL we fetch, and every redirect target, comes from outside: a feed, a page, a user.
Before connecting, `AddressGuard.resolve` resolves the host and refuses it if *any* of its
addresses is loopback, private, link-local, multicast, reserved, unspecified or otherwise not
globally routable, including the IPv6 forms that embed such an IPv4 address (IPv4-mapped,
6to4, Teredo, NAT64). Literal IPs and the name ``localhost`` are checked the same way.
``settings.fetch_allow_networks`` exempts CIDR networks (``127.0.0.0/8``) and host names.

DNS rebinding: a check done by resolving a name and then letting the HTTP client resolve it
again to connect leaves a window in which the name can change to a private address.
`guarded_transport` closes it: its connection pool dials through `PinnedNetworkBackend`,
which resolves and checks at connect time and then connects to one of the very addresses it
checked (TLS still verifies the certificate against the host name). A custom transport
passed to the fetcher instead (tests, proxies) only gets the pre-connect check.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpcore
import httpx

__all__ = [
    "AddressGuard",
    "BlockedAddressError",
    "IPAddress",
    "PinnedNetworkBackend",
    "Resolver",
    "blocked_reason",
    "guarded_transport",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class BlockedAddressError(Exception):
    """A host name or address the guard refuses to connect to."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        self.host = host
        self.address = address
        self.reason = reason
        where = host if host == address else f"{host} ({address})"
        super().__init__(f"refusing to connect to {where}: {reason} address")


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order, without duplicates."""
    import asyncio

    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen: dict[str, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses carried inside an IPv6 one (mapped, 6to4, Teredo, NAT64)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _own_reason(ip: IPAddress) -> str | None:
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "non-global"
    return None


def blocked_reason(address: str | IPAddress) -> str | None:
    """Why `address` must not be fetched from ("loopback", "private", ...), or None if public."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is that IPv4 address, nothing else
            return _own_reason(ip.ipv4_mapped)
        for inner in _embedded_ipv4(ip):
            reason = _own_reason(inner)
            if reason is not None:
                return f"{reason} (embedded in IPv6)"
    return _own_reason(ip)


def _parse_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _normal_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


class AddressGuard:
    """Resolves host names and refuses non-public addresses, minus an allow list.

    `allow` holds CIDR networks ("127.0.0.0/8", "::1/128", "10.1.2.3") and host names
    ("intranet.example"); a name listed there is not checked at all, an address inside a
    listed network is accepted.
    """

    def __init__(self, allow: Iterable[str] = (), resolver: Resolver | None = None) -> None:
        self._networks: list[IPNetwork] = []
        self._hosts: set[str] = set()
        for entry in allow:
            entry = entry.strip()
            if not entry:
                continue
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._hosts.add(_normal_host(entry))
        self._resolver: Resolver = resolver or system_resolver

    def _allowed_address(self, ip: IPAddress) -> bool:
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address):
            candidates.extend(_embedded_ipv4(ip))
        return any(c in net for c in candidates for net in self._networks if c.version ==
                   net.version)

    def check_address(self, host: str, address: str) -> None:
        """Raise `BlockedAddressError` unless `address` (resolved from `host`) may be used."""
        ip = ipaddress.ip_address(address)
        reason = blocked_reason(ip)
        if reason is not None and not self._allowed_address(ip):
            raise BlockedAddressError(host, address, reason)

    async def resolve(self, host: str, port: int) -> list[str]:
        """The checked addresses to connect to for `host`.

        Raises `BlockedAddressError` when the host or any of its addresses is refused, and
        `OSError` (e.g. `socket.gaierror`) when it cannot be resolved.
        """
        name = _normal_host(host)
        if not name:
            raise OSError(f"empty host name {host!r}")
        literal = _parse_ip(name)
        if literal is not None:
            self.check_address(name, str(literal))
            return [str(literal)]
        if name in self._hosts:
            return await self._resolve(name, port)
        if name == "localhost" or name.endswith(".localhost"):
            raise BlockedAddressError(name, name, "loopback")
        addresses = await self._resolve(name, port)
        for address in addresses:
            self.check_address(name, address)
        return addresses

    async def _resolve(self, name: str, port: int) -> list[str]:
        addresses = await self._resolver(name, port)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{name} has no addresses")
        for address in addresses:
            if _parse_ip(address) is None:
                raise OSError(f"resolver returned a non-address {address!r} for {name}")
        return addresses


class PinnedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that dials only addresses the guard has just approved."""

    def __init__(self, guard: AddressGuard,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        addresses = await self._guard.resolve(host, port)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """One certificate-verifying context per process (loading the CA bundle is slow)."""
    return httpx.create_ssl_context(trust_env=False)


def guarded_transport(guard: AddressGuard, *, max_connections: int = 100
                      ) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections go only to addresses `guard` approved."""
    ssl_context = _default_ssl_context()
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, trust_env=False, retries=0)
    # httpx exposes no network_backend option, so its pool is swapped for one that has ours;
    # the pinning test fails loudly should httpx ever rename this attribute.
    if not hasattr(transport, "_pool"):  # pragma: no cover - depends on httpx internals
        raise RuntimeError("this httpx version has no AsyncHTTPTransport._pool")
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=max_connections,
        max_keepalive_connections=max(1, max_connections // 5),
        keepalive_expiry=5.0,
        http1=True,
        http2=False,
        retries=0,
        network_backend=PinnedNetworkBackend(guard),
    )
    return transport
