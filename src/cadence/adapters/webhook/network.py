"""Where the ``webhook`` adapter may connect, and when it may try again.

Which addresses a webhook may reach (no loopback, private, link-local,
multicast or reserved ones unless a route allows them) and a requests transport
adapter that resolves a host once per request, checks the address and connects
to exactly that address, keeping the Host header, TLS SNI and certificate
checks for the host name; and the reading of Retry-After.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any, ClassVar, TypeAlias
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool, port_by_scheme
from urllib3.exceptions import LocationValueError
from urllib3.poolmanager import PoolManager
from urllib3.util.connection import allowed_gai_family

from cadence.core.errors import CadenceError

__all__ = [
    "MAX_RETRY_AFTER",
    "AddressError",
    "PinningAdapter",
    "Resolver",
    "address_refusal",
    "host_header",
    "literal_address",
    "parse_retry_after",
    "pin_address",
    "system_resolver",
]

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

# -- Retry-After -----------------------------------------------------------------

#: The longest wait a Retry-After header can ask for; beyond it the wait is cut short,
#: so that a wrong header cannot park a reminder for ever.
MAX_RETRY_AFTER = timedelta(days=7)


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """The moment a ``Retry-After`` header (seconds or an HTTP date) asks to wait until.

    None when the header is missing, unreadable, or names a moment not after
    ``now``; never later than ``now`` plus ``MAX_RETRY_AFTER``.
    """
    if not value:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        wait = timedelta(seconds=min(int(text), int(MAX_RETRY_AFTER.total_seconds())))
        return now + wait if wait else None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000" means UTC in an HTTP date
        moment = moment.replace(tzinfo=UTC)
    if moment <= now:
        return None
    return min(moment, now + MAX_RETRY_AFTER)


# -- addresses -------------------------------------------------------------------


class AddressError(CadenceError):
    """A webhook's host could not be resolved, or resolves to an address it may not reach.

    ``permanent`` is true for a refused address (it will not change by
    itself) and false when resolving failed (DNS may be back later).
    """

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


Resolver: TypeAlias = Callable[[str, int], Sequence[str]]
"""Resolves ``(host, port)`` to its IP addresses, as text, in the order to try them."""

# Special-purpose ranges that Python's ``is_global`` lets through on some
# versions (CPython issue 113171), or that can carry an address of any kind.
_SPECIAL_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "100.64.0.0/10",  # carrier-grade NAT
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast
        "198.18.0.0/15",  # benchmarking
        "64:ff9b::/96",  # NAT64: embeds any IPv4 address
        "64:ff9b:1::/48",  # local NAT64
        "2001::/32",  # Teredo: embeds any IPv4 address
        "2002::/16",  # 6to4: embeds any IPv4 address
        "5f00::/16",  # segment routing
    )
)


def address_refusal(address: IPAddress) -> str | None:
    """Why a webhook may not connect to ``address`` by default, or None if it may.

    Loopback, private, link-local, multicast, reserved, unspecified and other
    special-purpose addresses are refused; an IPv4 address mapped into IPv6
    is judged as the IPv4 address it carries.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    kinds: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "an unspecified"),
        (address.is_loopback, "a loopback"),
        (address.is_link_local, "a link-local"),
        (address.is_multicast, "a multicast"),
        (address.is_reserved, "a reserved"),
        (address.is_private, "a private"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "a site-local"),
    )
    for refused, kind in kinds:
        if refused:
            return f"{address} is {kind} address"
    if not address.is_global or any(address in network for network in _SPECIAL_NETWORKS):
        return f"{address} is a special-purpose address"
    return None


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one written out, else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system's resolver, IPv6 only where the machine has it."""
    found = socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    return [str(info[4][0]) for info in found]


def pin_address(
    host: str, port: int, *, allow_private: bool, resolver: Resolver = system_resolver
) -> str:
    """Resolve ``host`` once and return the address to connect to, after checking it.

    Every address the host resolves to is checked, not only the first, so a
    name that mixes a public address with a private one is refused. Raises
    AddressError: permanent when an address is refused, transient when the
    name cannot be resolved.
    """
    literal = literal_address(host)
    if literal is not None:
        found: Sequence[str] = [str(literal)]
    else:
        try:
            found = resolver(host, port)
        except (OSError, UnicodeError) as error:
            reason = getattr(error, "strerror", None) or type(error).__name__
            raise AddressError(f"cannot resolve {host}: {reason}", permanent=False) from None
    addresses: list[IPAddress] = []
    for text in found:
        try:
            addresses.append(ipaddress.ip_address(text))
        except ValueError:
            raise AddressError(
                f"{host} resolved to {text!r}, not an address", permanent=True
            ) from None
    if not addresses:
        raise AddressError(f"{host} resolved to no address", permanent=False)
    if not allow_private:
        for address in addresses:
            refusal = address_refusal(address)
            if refusal is not None:
                raise AddressError(
                    f"refused to connect to {host}: {refusal}; "
                    "set allow_private = true on the route to allow it",
                    permanent=True,
                )
    return str(addresses[0])


_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_header(url: str) -> str:
    """The Host header for ``url``: its host, with the port unless it is the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host += f":{parts.port}"
    return host


class _CheckedConnection(HTTPConnection):
    """A connection that opens only to an address the pinning checked.

    The last gate: whatever path requests and urllib3 took to build it, a
    connection whose host is a name (nobody pinned it) or a refused address
    does not open, so a change in either library fails closed.
    """

    allow_private: ClassVar[bool] = False

    def connect(self) -> None:
        """Check the address, then connect."""
        _check_connection(self.host, allow_private=self.allow_private)
        super().connect()


class _CheckedHTTPSConnection(HTTPSConnection):
    """The TLS twin of ``_CheckedConnection``."""

    allow_private: ClassVar[bool] = False

    def connect(self) -> None:
        """Check the address, then connect."""
        _check_connection(self.host, allow_private=self.allow_private)
        super().connect()


def _check_connection(host: str, *, allow_private: bool) -> None:
    address = literal_address(host)
    if address is None:
        raise AddressError(
            f"refused to connect to {host}: its address was not checked "
            "(the installed requests or urllib3 bypassed the address pinning)",
            permanent=True,
        )
    refusal = None if allow_private else address_refusal(address)
    if refusal is not None:
        raise AddressError(f"refused to connect to {host}: {refusal}", permanent=True)


@cache
def _pool_classes(allow_private: bool) -> dict[str, type[HTTPConnectionPool]]:
    """Connection pools whose connections pass ``_check_connection`` before they open."""

    class Connection(_CheckedConnection):
        pass

    class TLSConnection(_CheckedHTTPSConnection):
        pass

    Connection.allow_private = TLSConnection.allow_private = allow_private

    class Pool(HTTPConnectionPool):
        ConnectionCls = Connection

    class TLSPool(HTTPSConnectionPool):
        ConnectionCls = TLSConnection

    return {"http": Pool, "https": TLSPool}


class _PinningPoolManager(PoolManager):
    """A urllib3 pool manager that hands out pools for checked addresses only.

    ``connection_from_host`` is where requests asks for a pool, whether
    through ``get_connection`` (2.31) or ``get_connection_with_tls_context``
    (2.32 on); pinning here rather than in either of those covers both. Its
    pools' connections check the address again before they open, so a pool
    reached some other way opens nothing.
    """

    def __init__(self, *args: Any, allow_private: bool, resolver: Resolver, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_private = allow_private
        self.resolver = resolver
        self.pool_classes_by_scheme = _pool_classes(allow_private)

    def connection_from_host(
        self,
        host: str | None,
        port: int | None = None,
        scheme: str | None = "http",
        pool_kwargs: dict[str, Any] | None = None,
    ) -> HTTPConnectionPool:
        """The pool for the checked address of ``host``, with TLS checks kept on the name."""
        scheme = (scheme or "http").lower()
        name = (host or "").strip("[]")
        if not name:
            raise LocationValueError("No host specified.")
        if port is None:
            port = port_by_scheme.get(scheme, 80)
        address = pin_address(name, port, allow_private=self.allow_private, resolver=self.resolver)
        kwargs: dict[str, Any] = dict(pool_kwargs or {})
        if scheme == "https":
            # Check the certificate against the name, and send the name as SNI, not the address.
            kwargs["server_hostname"] = name
            kwargs["assert_hostname"] = name
        return super().connection_from_host(
            f"[{address}]" if ":" in address else address, port, scheme, pool_kwargs=kwargs
        )


class PinningAdapter(HTTPAdapter):
    """A requests transport that connects to a checked address of the URL's host.

    For every request it resolves the host once (through ``resolver``),
    refuses addresses that ``address_refusal`` names unless ``allow_private``,
    and opens the connection to that very address, so a name that resolves
    differently a moment later (DNS rebinding) cannot slip past the check.
    The Host header, TLS SNI and the certificate check keep the host name.
    Connections are pooled per address and host name. Proxies are refused:
    a proxy would resolve the host itself, past the check.

    It fails closed: building it raises ``AddressError`` when the installed
    requests does not take its pool manager, and a connection whose address
    was not checked does not open.
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver = system_resolver,
        pool_maxsize: int = 10,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        super().__init__(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
        self._check_pinning()

    def _check_pinning(self) -> None:
        manager = getattr(self, "poolmanager", None)
        if not isinstance(manager, _PinningPoolManager) or (
            manager.allow_private != self.allow_private
        ):
            raise AddressError(
                "cannot check the addresses webhooks go to with the installed requests "
                f"{requests.__version__}: refusing to send",
                permanent=False,
            )

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        """Make the pool manager that pins every pool to a checked address."""
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = _PinningPoolManager(
            num_pools=connections,
            maxsize=maxsize,
            block=block,
            allow_private=self.allow_private,
            resolver=self.resolver,
            **pool_kwargs,
        )

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """Refuse every proxy: it would resolve the host itself, past the check."""
        raise AddressError(
            "refused to send through a proxy: it would reach addresses cadence cannot check",
            permanent=True,
        )

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        """Send ``request`` once more sure that its connection will be pinned."""
        self._check_pinning()
        return super().send(request, *args, **kwargs)

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        """Name the host in the Host header, since the connection only knows the address."""
        request.headers["Host"] = host_header(request.url or "")
