"""The ``identity`` section: RADIUS accounting and proxy authentication. Owned by filterproxy.identity."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from filterproxy.config.section import Section
from filterproxy.config.types import HostPort


class RadiusClient(Section):
    """A NAS (Wi-Fi controller, 802.1X server) allowed to send accounting, and its shared secret."""

    address: ipaddress.IPv4Network | ipaddress.IPv6Network = Field(
        description="The NAS address or network (CIDR) packets must come from."
    )
    secret: SecretStr = Field(
        min_length=1, description="The RADIUS shared secret of this NAS (`config check` prints it masked)."
    )


class RadiusSettings(Section):
    """RADIUS accounting (RFC 2866): who is behind each address, from Accounting-Start/Interim/Stop."""

    listen: HostPort | None = Field(
        default=None, description="UDP HOST:PORT to receive accounting on, e.g. 127.0.0.1:1813 (none: off)."
    )
    clients: list[RadiusClient] = Field(default=[], description="NAS addresses allowed to send, with their secrets.")
    max_age: float = Field(
        default=12 * 3600.0,
        gt=0,
        description="Seconds a session lasts without a Stop or an Interim-Update when the NAS sends no "
        "Acct-Interim-Interval (with one: three intervals, capped at this).",
    )
    replay_window: float = Field(
        default=60.0, gt=0, description="Seconds a repeated packet (same NAS, identifier and authenticator) is refused."
    )
    max_sessions: int = Field(default=100_000, ge=1, description="Sessions kept at most; the oldest go first.")

    @model_validator(mode="after")
    def _clients_when_listening(self) -> RadiusSettings:
        if self.listen is not None and not self.clients:
            raise ValueError("identity.radius.listen is set but no clients may send: add identity.radius.clients")
        return self


class LdapSettings(Section):
    """An LDAP directory (Active Directory or OpenLDAP) to check proxy passwords against."""

    url: str = Field(description="ldap://HOST:PORT or ldaps://HOST:PORT.")
    starttls: bool = Field(default=False, description="Upgrade ldap:// with StartTLS before binding.")
    ca_file: Path | None = Field(default=None, description="CA certificate(s) to verify the server (TLS).")
    bind_dn: str = Field(description="The service account that searches for users.")
    bind_password_file: Path = Field(description="File holding the service account's password (relative to data_dir).")
    base_dn: str = Field(description="Where users are searched, e.g. ou=people,dc=school,dc=uk.")
    user_filter: str = Field(
        default="(|(sAMAccountName={user})(uid={user}))",
        description="Search filter for the user; {user} is the login name (escaped).",
    )
    group_attribute: str = Field(default="memberOf", description="User attribute listing the user's group DNs.")
    timeout: float = Field(default=3.0, gt=0, description="Seconds for connecting and for each operation.")


class ProxyAuthSettings(Section):
    """Proxy-Authorization: Basic in explicit mode, checked against LDAP or a local user file."""

    enabled: bool = Field(default=False, description="Ask for and check proxy credentials.")
    source: Literal["ldap", "file"] = Field(default="file", description="Where passwords are checked.")
    users_file: Path = Field(
        default=Path("identity/users"),
        description="Local user file (`filterproxy identity passwd`), relative to data_dir; "
        "lines user:scrypt-hash:group;group.",
    )
    ldap: LdapSettings | None = Field(default=None, description="The directory, when source is ldap.")
    groups: list[str] = Field(
        default=[],
        description="Network-derived policy groups whose clients must authenticate (407); empty: every client. "
        "Credentials a client sends unasked are checked whatever its group.",
    )
    realm: str = Field(default="School internet", description="Realm shown in the browser's login prompt.")
    cache_seconds: float = Field(default=300.0, ge=0, description="Seconds a checked login is remembered.")
    cache_size: int = Field(default=10_000, ge=1, description="Logins remembered at most (least recent go first).")
    workers: int = Field(default=4, ge=1, le=64, description="Threads checking passwords (LDAP, scrypt).")

    @model_validator(mode="after")
    def _ldap_configured(self) -> ProxyAuthSettings:
        if self.enabled and self.source == "ldap" and self.ldap is None:
            raise ValueError("proxy_auth.source is ldap but proxy_auth.ldap is not configured")
        return self


class IdentitySettings(Section):
    """Who is behind each address: RADIUS accounting and proxy authentication (both off by default)."""

    radius: RadiusSettings = Field(default_factory=RadiusSettings, description="RADIUS accounting listener.")
    proxy_auth: ProxyAuthSettings = Field(default_factory=ProxyAuthSettings, description="Proxy authentication.")
