"""Small validated value types shared by configuration sections."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator


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
