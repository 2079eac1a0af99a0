"""Web console configuration. Owned by filterproxy.console."""

from __future__ import annotations

from pydantic import Field

from filterproxy.config.section import Section
from filterproxy.config.types import HostPort


class ConsoleSettings(Section):
    """The web console for the ICT manager, the safeguarding lead and governors."""

    enabled: bool = Field(default=True, description="Serve the console from `filterproxy serve`.")
    listen: HostPort = Field(
        default="127.0.0.1:9180",
        description="Console listen address, HOST:PORT; loopback by default. Use 0.0.0.0 only behind TLS.",
    )
    process: bool = Field(
        default=True,
        description="Run the console in a child process (no shared interpreter lock with DNS and the proxy); "
        "false: a thread of the service process.",
    )
    public_url: str | None = Field(
        default=None,
        description="The console's address as pupils' browsers reach it (https://console.school.example); "
        "used in links the console prints. Default: http://<listen>.",
    )
    secure_cookie: bool | None = Field(
        default=None,
        description="Send the session cookie with the Secure flag; default: when public_url is https://.",
    )
    session_minutes: int = Field(default=480, ge=5, le=7 * 24 * 60, description="Session lifetime in minutes.")
    login_attempts: int = Field(
        default=5, ge=1, le=100, description="Failed logins per address or per user before a lock-out."
    )
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60, description="How long a lock-out lasts.")
    request_limit_per_hour: int = Field(
        default=10, ge=1, le=1000, description="Unblock requests one client address may send per hour."
    )
    max_temporary_hours: int = Field(
        default=24 * 30, ge=1, le=24 * 366, description="Longest a temporary unblock approval may last."
    )

    def base_url(self) -> str:
        """The console's public address without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.listen}"

    def cookie_secure(self) -> bool:
        if self.secure_cookie is not None:
            return self.secure_cookie
        return self.base_url().startswith("https://")
