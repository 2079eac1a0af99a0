"""Incident queue configuration. Owned by filterproxy.incidents."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, field_validator

from filterproxy.config.section import Section
from filterproxy.model import Category

Severity = Literal["low", "medium", "high"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)  # lowest first

DEFAULT_SEVERITY: dict[Category, Severity] = {
    Category.ILLEGAL: "high",
    Category.SELFHARM: "high",
    Category.EXTREMISM: "high",
    Category.ADULT: "medium",
    Category.VIOLENCE: "medium",
    Category.HATE: "medium",
    Category.DRUGS: "medium",
    Category.MALWARE: "medium",
    Category.CIRCUMVENTION: "medium",
}


class DeviceSettings(Section):
    """Where device names come from (first match wins: inventory, leases, reverse DNS)."""

    inventory_csv: Path | None = Field(
        default=None, description="Inventory CSV with columns ip,device[,user] (header optional; relative to data_dir)."
    )
    leases_files: list[Path] = Field(
        default=[], description="DHCP leases files, dnsmasq or ISC dhcpd format (detected; relative to data_dir)."
    )
    reverse_dns: bool = Field(
        default=False, description="Look up PTR names of clients (off the hot path, cached for an hour)."
    )


class AlertSettings(Section):
    """Immediate alerts for high-severity incidents and the weekly digest."""

    min_severity: Severity = Field(default="high", description="Lowest severity that alerts immediately.")
    webhook_url: str | None = Field(default=None, description="JSON POST target for immediate alerts.")
    webhook_retries: int = Field(default=4, ge=0, le=20, description="Retries after a failed POST (backoff x2).")
    webhook_backoff: float = Field(default=1.0, gt=0, description="First retry delay in seconds.")
    smtp_host: str | None = Field(default=None, description="SMTP server for alert and digest email.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port.")
    smtp_starttls: bool = Field(default=False, description="Use STARTTLS on the SMTP connection.")
    smtp_user: str | None = Field(default=None, description="SMTP login user (none: no login).")
    smtp_password_file: Path | None = Field(
        default=None, description="File holding the SMTP password (absolute path; keep it mode 0600)."
    )
    mail_from: str = Field(default="filterproxy@localhost", description="Sender address of alert email.")
    alert_to: list[str] = Field(default=[], description="Recipients of immediate alerts (ICT manager, DSL).")
    max_per_hour: int = Field(default=20, ge=1, description="Immediate alerts per hour; more are summarised.")
    digest_to: list[str] = Field(default=[], description="Recipients of the weekly digest (ICT manager, DSL).")
    digest_dir: Path | None = Field(
        default=Path("digests"), description="Directory for the weekly digest as a text file (relative to data_dir)."
    )
    digest_interval_days: float = Field(default=7.0, gt=0, description="Days between digests.")

    @field_validator("webhook_url")
    @classmethod
    def _http_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("the webhook URL must start with http:// or https://")
        return value


class IncidentSettings(Section):
    """Where incidents are stored, how they are folded, alerted and kept."""

    store: str = Field(
        default="sqlite:incidents.db",
        description="sqlite:PATH (relative to data_dir) or a postgresql:// URL shared by several sites.",
    )
    node: str | None = Field(
        default=None, description="Name of this filter in a shared store (default: the host name)."
    )
    dedup_window: float = Field(default=600.0, ge=0, description="Seconds within which repeats fold into one.")
    queue_size: int = Field(default=100_000, ge=100, description="In-memory queue bound; overflow is counted.")
    batch_size: int = Field(default=5000, ge=1, description="Most events written per store transaction.")
    flush_interval: float = Field(
        default=0.25,
        gt=0,
        le=1.0,
        description="Seconds between writer cycles (the bound on loss at SIGKILL).",
    )
    spool_file: Path = Field(
        default=Path("incidents.spool"), description="Append-only spool used while the store is down."
    )
    retry_interval: float = Field(default=2.0, gt=0, description="Seconds between store reconnect attempts.")
    isolate: bool = Field(
        default=True,
        description="Run the service's store connections in a child process, so a failing database "
        "(SQLite's SIGBUS on an unwritable or full filesystem, a hung server) cannot take DNS and the proxy down.",
    )
    watermark_file: Path = Field(
        default=Path("incidents.seq"),
        description="Sequence numbers reserved ahead of use (fsync'd), so a crash's loss is counted.",
    )
    retention_days: int = Field(
        default=365, ge=1, description="Days after which client IP, device, user, URL query are purged."
    )
    severity: dict[Category, Severity] = Field(
        default=DEFAULT_SEVERITY, description="Severity per category (unnamed categories are low)."
    )
    devices: DeviceSettings = Field(default_factory=DeviceSettings, description="Device name sources.")
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="Alerts and weekly digest.")
