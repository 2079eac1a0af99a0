"""The root configuration model: one section per subsystem, each owned by its package."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from filterproxy.categorise.settings import CategoriseSettings
from filterproxy.classify.settings import PolicySettings
from filterproxy.config.block import BlockSettings
from filterproxy.config.section import Section
from filterproxy.console.settings import ConsoleSettings
from filterproxy.content.settings import ContentSettings
from filterproxy.dns.settings import DnsSettings
from filterproxy.gateway.settings import GatewaySettings
from filterproxy.http.settings import ProxySettings
from filterproxy.identity.settings import IdentitySettings
from filterproxy.incidents.settings import IncidentSettings
from filterproxy.lists.settings import ListsSettings
from filterproxy.metrics.settings import MetricsSettings
from filterproxy.selftest.settings import SelftestSettings


class Config(Section):
    """The whole filterproxy configuration (config/filterproxy.yaml)."""

    data_dir: Path = Field(
        default=Path("var"),
        description="State: compiled index, SQLite store, spool, downloaded lists, CA. Relative to the config file.",
    )
    policy: PolicySettings = Field(default_factory=PolicySettings, description="Client groups and their policy.")
    lists: ListsSettings = Field(default_factory=ListsSettings, description="Category list sources.")
    block: BlockSettings = Field(default_factory=BlockSettings, description="Block answers and block page.")
    dns: DnsSettings = Field(default_factory=DnsSettings, description="The filtering DNS resolver.")
    proxy: ProxySettings = Field(default_factory=ProxySettings, description="The filtering HTTP(S) proxy.")
    incidents: IncidentSettings = Field(default_factory=IncidentSettings, description="The incident queue.")
    metrics: MetricsSettings = Field(default_factory=MetricsSettings, description="Prometheus metrics.")
    gateway: GatewaySettings = Field(default_factory=GatewaySettings, description="Transparent gateway.")
    selftest: SelftestSettings = Field(default_factory=SelftestSettings, description="Filter self-test probes.")
    identity: IdentitySettings = Field(default_factory=IdentitySettings, description="Who is behind each address.")
    console: ConsoleSettings = Field(default_factory=ConsoleSettings, description="The web console.")
    content: ContentSettings = Field(default_factory=ContentSettings, description="Page-content analysis.")
    categorise: CategoriseSettings = Field(
        default_factory=CategoriseSettings, description="The hostname model for names no list decides."
    )

    @property
    def local_dir(self) -> Path:
        """The school's local allow/deny lists."""
        return self.lists.local_dir if self.lists.local_dir is not None else self.data_dir / "local"
