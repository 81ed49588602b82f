"""Requests Remit sends to addresses its users chose (webhook endpoints), made safe to send.

- The host is resolved at send time and every address it resolves to must be a public internet
  address: loopback, private, link-local, multicast, reserved, unspecified and shared ranges are
  refused, in IPv4, IPv6 and IPv4-mapped forms (``127.1``, ``2130706433``, ``[::ffff:10.0.0.1]``).
  ``REMIT_WEBHOOK_ALLOWED_NETWORKS`` names ranges an operator allows anyway (a receiver on the
  same private network; the tests' receiver on 127.0.0.1).
- The connection goes to the address that was checked (the name is not looked up a second time,
  so a DNS answer that changes between check and connect cannot point it inside).
- Redirects are never followed: a 3xx is the answer of the attempt.
- Connect and each read wait at most ``timeout`` seconds; at most 10 kB of the answer is read.
- What failed is recorded as a coarse class, so an API user cannot tell "connection refused" from
  "closed without an answer" (no port scanning through Remit).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

NOT_PUBLIC = "Refused: the endpoint's address is not a public internet address."
UNRESOLVED = "The endpoint's host name could not be resolved."
NO_ANSWER = "Could not connect, or the connection closed without an answer."
TIMED_OUT = "No answer in time."
ANSWER_LIMIT_BYTES = 10_000


@dataclass(frozen=True)
class OutboundResult:
    status_code: int | None
    error: str


class AddressNotPublic(Exception):
    pass


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(network, strict=False)
        for network in settings.REMIT_WEBHOOK_ALLOWED_NETWORKS
    ]


def address_is_public(address: IPAddress) -> bool:
    """A global unicast address, or one in an operator-allowed network."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in _allowed_networks()):
        return True
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address.is_loopback
        or address.is_link_local
        or address.is_private
    )


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as an IP stands for, in any form the socket layer accepts
    (``127.1``, ``0x7f.1``, ``2130706433``); None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def host_refusal(host: str) -> str | None:
    """Why a URL's host can be refused before anything is sent (at registration): an internal
    address written out, or a localhost name. Names are checked again when sending."""
    name = host.lower().rstrip(".")
    literal = literal_address(name)
    if literal is not None:
        return None if address_is_public(literal) else NOT_PUBLIC
    if name == "localhost" or name.endswith(".localhost"):
        return None if address_is_public(ipaddress.IPv4Address("127.0.0.1")) else NOT_PUBLIC
    return None


def _public_address(host: str, port: int) -> str:
    """The first address ``host`` resolves to, if all of them are public."""
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(answer[4][0]) for answer in answers]
    parsed = [ipaddress.ip_address(address.split("%", 1)[0]) for address in addresses]
    if not parsed or not all(address_is_public(address) for address in parsed):
        raise AddressNotPublic(host)
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def outbound_post(
    *, url: str, body: bytes, headers: dict[str, str], timeout: float
) -> OutboundResult:
    """POST ``body`` to ``url`` under the rules above; never raises for the network's sake."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https"
    try:
        port = parts.port or (443 if secure else 80)
    except ValueError:
        return OutboundResult(None, NO_ANSWER)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection: http.client.HTTPConnection | None = None
    try:
        address = _public_address(host, port)
        connection_class = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
        connection = connection_class(host, port, address, timeout)
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(ANSWER_LIMIT_BYTES)
    except AddressNotPublic:
        return OutboundResult(None, NOT_PUBLIC)
    except socket.gaierror:
        return OutboundResult(None, UNRESOLVED)
    except TimeoutError:
        return OutboundResult(None, TIMED_OUT)
    except (OSError, http.client.HTTPException, ValueError):
        return OutboundResult(None, NO_ANSWER)
    finally:
        if connection is not None:
            connection.close()
    if 300 <= response.status < 400:
        return OutboundResult(
            response.status, f"HTTP {response.status} (redirects are not followed)"
        )
    if response.status >= 400:
        return OutboundResult(response.status, f"HTTP {response.status}")
    return OutboundResult(response.status, "")
