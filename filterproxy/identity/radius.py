"""RFC 2866 accounting packets: parse, verify the Request Authenticator, build the response.

Written here rather than taken from pyrad: accounting needs a dozen attributes and two MD5
sums, while pyrad's server wants a dictionary file, runs its own blocking loop and does not
refuse replays. Everything here is pure (bytes in, values out) and tested alone.

    Request Authenticator  = MD5(Code + Identifier + Length + 16 zero octets + Attributes + Secret)
    Response Authenticator = MD5(Code + Identifier + Length + Request Authenticator + Attributes + Secret)
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import ipaddress
import struct
from dataclasses import dataclass, field

ACCOUNTING_REQUEST = 4
ACCOUNTING_RESPONSE = 5
HEADER = 20
MAX_LENGTH = 4096

USER_NAME = 1
FRAMED_IP_ADDRESS = 8
FILTER_ID = 11
CLASS = 25
ACCT_STATUS_TYPE = 40
ACCT_SESSION_ID = 44
ACCT_INTERIM_INTERVAL = 85
FRAMED_IPV6_ADDRESS = 168


class StatusType(enum.IntEnum):
    START = 1
    STOP = 2
    INTERIM_UPDATE = 3
    ACCOUNTING_ON = 7
    ACCOUNTING_OFF = 8


class PacketError(ValueError):
    """A datagram that is not a well-formed Accounting-Request (the reason says what is wrong)."""


@dataclass(frozen=True, slots=True)
class Accounting:
    """The parts of one Accounting-Request that identify a person."""

    identifier: int
    authenticator: bytes
    status: int | None = None
    user: str | None = None
    addresses: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...] = ()
    classes: tuple[str, ...] = ()  # Class and Filter-Id values, as text
    session_id: str | None = None
    interim_interval: int | None = None
    attributes: dict[int, list[bytes]] = field(default_factory=dict, repr=False)


def parse(data: bytes) -> Accounting:
    """The Accounting-Request in ``data``, or :class:`PacketError` (the authenticator is not checked here)."""
    if len(data) < HEADER:
        raise PacketError(f"{len(data)} octets: shorter than a RADIUS header")
    code, identifier, length = struct.unpack_from("!BBH", data)
    if code != ACCOUNTING_REQUEST:
        raise PacketError(f"code {code} is not Accounting-Request")
    if not HEADER <= length <= MAX_LENGTH or length > len(data):
        raise PacketError(f"length field {length} does not fit the {len(data)}-octet datagram")
    attributes = _attributes(data[HEADER:length])
    return Accounting(
        identifier=identifier,
        authenticator=data[4:HEADER],
        status=_integer(attributes, ACCT_STATUS_TYPE),
        user=_text(attributes, USER_NAME),
        addresses=_addresses(attributes),
        classes=tuple(_decode(v) for key in (CLASS, FILTER_ID) for v in attributes.get(key, [])),
        session_id=_text(attributes, ACCT_SESSION_ID),
        interim_interval=_integer(attributes, ACCT_INTERIM_INTERVAL),
        attributes=attributes,
    )


def verify(data: bytes, secret: bytes) -> bool:
    """Whether the Request Authenticator of ``data`` (already parsed) matches ``secret``."""
    length = struct.unpack_from("!H", data, 2)[0]
    expected = hashlib.md5(data[:4] + bytes(16) + data[HEADER:length] + secret, usedforsecurity=False).digest()
    return hmac.compare_digest(expected, data[4:HEADER])


def response(request: Accounting, secret: bytes) -> bytes:
    """The Accounting-Response (no attributes) answering ``request``."""
    head = struct.pack("!BBH", ACCOUNTING_RESPONSE, request.identifier, HEADER)
    digest = hashlib.md5(head + request.authenticator + secret, usedforsecurity=False).digest()
    return head + digest


def request(attributes: list[tuple[int, bytes]], secret: bytes, identifier: int = 0) -> bytes:
    """An Accounting-Request with a correct authenticator (for tools and tests)."""
    body = b"".join(struct.pack("!BB", key, len(value) + 2) + value for key, value in attributes)
    head = struct.pack("!BBH", ACCOUNTING_REQUEST, identifier, HEADER + len(body))
    digest = hashlib.md5(head + bytes(16) + body + secret, usedforsecurity=False).digest()
    return head + digest + body


def _attributes(body: bytes) -> dict[int, list[bytes]]:
    out: dict[int, list[bytes]] = {}
    at = 0
    while at < len(body):
        if at + 2 > len(body):
            raise PacketError("truncated attribute header")
        key, size = body[at], body[at + 1]
        if size < 2 or at + size > len(body):
            raise PacketError(f"attribute {key} has length {size} past the packet end")
        out.setdefault(key, []).append(body[at + 2 : at + size])
        at += size
    return out


def _decode(value: bytes) -> str:
    return value.decode("utf-8", errors="replace").strip("\x00").strip()


def _text(attributes: dict[int, list[bytes]], key: int) -> str | None:
    values = attributes.get(key)
    text = _decode(values[0]) if values else ""
    return text or None


def _integer(attributes: dict[int, list[bytes]], key: int) -> int | None:
    values = attributes.get(key)
    if not values:
        return None
    if len(values[0]) != 4:
        raise PacketError(f"attribute {key} is not a 4-octet integer")
    value: int = struct.unpack("!I", values[0])[0]
    return value


def _addresses(attributes: dict[int, list[bytes]]) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    out: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for value in attributes.get(FRAMED_IP_ADDRESS, []):
        if len(value) != 4:
            raise PacketError("Framed-IP-Address is not 4 octets")
        out.append(ipaddress.IPv4Address(value))
    for value in attributes.get(FRAMED_IPV6_ADDRESS, []):
        if len(value) != 16:
            raise PacketError("Framed-IPv6-Address is not 16 octets")
        out.append(ipaddress.IPv6Address(value))
    return tuple(out)
