"""Small validated value types shared by configuration sections."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator


def host_port(value: str) -> str:
    """``value`` if it is ``HOST:PORT`` (IPv6 in brackets) with a valid host and port, else ValueError."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"expected HOST:PORT with a port 0-65535, got {value!r}")
    host = host.strip("[]")
    if host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if not host.replace("-", "").replace(".", "").isalnum():
                raise ValueError(f"expected an IP address or host name, got {host!r}") from None
    return value


def split_host_port(value: str) -> tuple[str, int]:
    """Split a validated ``HOST:PORT`` (IPv6 in brackets) into its parts."""
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


HostPort = Annotated[str, AfterValidator(host_port)]


def network(value: object) -> object:
    """A CIDR string as a network, with a plain message (and the fix) when it has host bits set."""
    if not isinstance(value, str):
        return value  # a network object already, or let pydantic say what is wrong
    text = value.strip()
    try:
        return ipaddress.ip_network(text)
    except ValueError as exc:
        if "host bits set" in str(exc):
            fixed = ipaddress.ip_network(text, strict=False)
            raise ValueError(f"{text} has host bits set; did you mean {fixed}?") from None
        raise ValueError(f"{text!r} is not an IP network (CIDR such as 10.20.0.0/16)") from None


#: An IPv4 or IPv6 network in CIDR notation (``10.20.0.0/16``; a bare address is a /32 or /128).
Network = Annotated[ipaddress.IPv4Network | ipaddress.IPv6Network, BeforeValidator(network)]
