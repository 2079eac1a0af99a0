"""Metrics exporter configuration. Owned by filterproxy.metrics."""

from __future__ import annotations

from pydantic import Field

from filterproxy.config.section import Section
from filterproxy.config.types import HostPort


class MetricsSettings(Section):
    """The Prometheus /metrics endpoint."""

    enabled: bool = Field(default=True, description="Serve /metrics.")
    listen: HostPort = Field(default="127.0.0.1:9153", description="Metrics listen address, HOST:PORT.")
