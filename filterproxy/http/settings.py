"""HTTP(S) proxy configuration. Owned by filterproxy.http."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from filterproxy.classify.normalise import normalise_name
from filterproxy.config.section import Section
from filterproxy.config.types import HostPort
from filterproxy.model import Action, Category


def passthrough_name(value: str) -> str:
    """A passthrough domain as matched: normalised, a leading ``*.`` dropped (subdomains are included anyway)."""
    return normalise_name(value.removeprefix("*."))


class WatchList(Section):
    """Words and phrases watched for in search terms, for one theme (a category id)."""

    words: list[str] = Field(default=[], description="Words or phrases (case-insensitive, whole words).")
    action: Action = Field(
        default=Action.LOG,
        description="What a match does: log (allow and record an incident) or block (show the block page).",
    )

    @field_validator("words")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        return [w.strip().lower() for w in value if w.strip()]


def _default_watch() -> dict[Category, WatchList]:
    return {
        Category.SELFHARM: WatchList(words=["suicide method", "how to kill myself", "self harm", "cutting myself"]),
        Category.EXTREMISM: WatchList(words=["join isis", "how to make a bomb", "great replacement"]),
    }


class ProxySettings(Section):
    """The filtering proxy (a mitmproxy addon)."""

    enabled: bool = Field(default=True, description="Run the proxy as part of `filterproxy serve`.")
    listen: HostPort = Field(default="127.0.0.1:3128", description="Proxy listen address, HOST:PORT.")
    mode: Literal["explicit", "transparent"] = Field(
        default="explicit",
        description="explicit: clients are configured (or use WPAD) to send requests and CONNECT "
        "to the proxy; transparent: the gateway redirects ports 80/443 here (Linux only).",
    )
    tls_blockpage: bool = Field(
        default=False,
        description="Intercept blocked HTTPS connections (and only those) to show the block page. "
        "Needs the school CA (`filterproxy ca init`) on managed devices; otherwise blocked HTTPS is refused.",
    )
    no_sni: Literal["classify", "block"] = Field(
        default="classify",
        description="TLS without SNI (transparent mode): classify the destination IP address, or refuse.",
    )
    passthrough: list[str] = Field(
        default=[],
        description="Domains (and their subdomains) never intercepted even for groups with intercept: "
        "pinned apps, OS updates, banking. They are still blocked if a list blocks them.",
    )
    watch: dict[Category, WatchList] = Field(
        default_factory=_default_watch,
        description="Search-term watch lists by theme (category id), applied to searches the proxy can see.",
    )
    pac_listen: HostPort | None = Field(
        default=None,
        description="Serve a PAC file (/wpad.dat, /proxy.pac) on this HOST:PORT for WPAD (explicit mode).",
    )
    pac_proxy: str | None = Field(
        default=None, description="HOST:PORT the PAC file names as the proxy (default: the listen address)."
    )
    max_client_connections: int = Field(
        default=512, ge=0, description="Simultaneous connections per client address (0: no limit)."
    )
    allow_internal: list[str] = Field(
        default=[],
        description="Destinations inside the gateway the proxy may still reach (by default it refuses "
        "loopback, link-local, the gateway's own addresses and the service's own ports): CIDR networks "
        "(every port but the service's own) or exact HOST:PORT pairs (e.g. 127.0.0.1:8080, [::1]:8080).",
    )
    max_header_bytes: int = Field(
        default=65536, ge=1024, description="Largest request header block accepted; larger is refused."
    )

    @field_validator("allow_internal")
    @classmethod
    def _allow_entries(cls, value: list[str]) -> list[str]:
        for entry in value:
            host, sep, port = entry.rpartition(":")
            if sep and port.isdigit() and (not host.count(":") or host.startswith("[")) and host:
                if not 0 < int(port) < 65536:
                    raise ValueError(f"{entry!r}: port out of range")
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r}: expected a CIDR network or HOST:PORT") from exc
        return value

    @field_validator("passthrough")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        return [passthrough_name(v) for v in value]
