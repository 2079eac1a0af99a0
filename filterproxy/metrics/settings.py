"""Metrics exporter configuration. Owned by filterproxy.metrics.

The basic-auth password never appears in the configuration in plain text: either a
PBKDF2 hash (``filterproxy metrics hash-password`` prints one), or the name of a file or
environment variable holding the password (for secrets mounted by systemd or Kubernetes).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from filterproxy.config.section import Section
from filterproxy.config.types import HostPort


class MetricsSettings(Section):
    """The Prometheus /metrics endpoint."""

    enabled: bool = Field(default=True, description="Serve /metrics.")
    listen: HostPort = Field(
        default="127.0.0.1:9153",
        description="Metrics listen address, HOST:PORT; loopback by default (port 0 picks a free one).",
    )
    path: str = Field(
        default="/metrics", pattern=r"^/[A-Za-z0-9_./-]*$", description="URL path of the metrics."
    )
    username: str | None = Field(
        default=None, description="Basic-auth user name; when unset, /metrics needs no authentication."
    )
    password_hash: str | None = Field(
        default=None,
        description="Basic-auth password as 'pbkdf2_sha256$N$SALT$HASH'; see `metrics hash-password`",
    )
    password_file: Path | None = Field(
        default=None, description="File whose first line is the basic-auth password (or password_hash)."
    )
    password_env: str | None = Field(
        default=None, description="Environment variable holding the basic-auth password (or password_hash)."
    )
    auth_failures_per_minute: int = Field(
        default=10,
        ge=0,
        description="Wrong basic-auth attempts allowed per client address per minute (as many in a burst); "
        "beyond that 429 without checking (0: no limit).",
    )
    prometheus_url: str | None = Field(
        default=None,
        description="Prometheus server scraping filterproxy (http://HOST:9090): the review reads history.",
    )

    @model_validator(mode="after")
    def _one_password_source(self) -> MetricsSettings:
        sources = [s for s in (self.password_hash, self.password_file, self.password_env) if s is not None]
        if len(sources) > 1:
            raise ValueError("set only one of password_hash, password_file and password_env")
        if self.username is not None and not sources:
            raise ValueError("username is set but no password_hash, password_file or password_env")
        if sources and self.username is None:
            raise ValueError("a password is set but no username")
        if self.password_hash is not None and not self.password_hash.startswith("pbkdf2_sha256$"):
            raise ValueError("password_hash must be 'pbkdf2_sha256$...' (`metrics hash-password`)")
        return self
