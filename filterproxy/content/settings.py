"""Page-content analysis configuration (the proxy's reading of pages, and the background categoriser).

Which categories are acted on, and at what threshold, is policy: ``policy.groups.<name>.content``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from filterproxy.config.section import Section


class BackgroundSettings(Section):
    """Fetching the home page of sites seen only by DNS or SNI, to categorise them by content."""

    enabled: bool = Field(
        default=False,
        description="Off by default: when on, the gateway itself fetches https://<name>/ of unlisted names "
        "that clients looked up (see docs/content.md, privacy).",
    )
    per_minute: int = Field(default=30, ge=1, le=6000, description="Most home pages fetched per minute.")
    concurrency: int = Field(default=2, ge=1, le=32, description="Most fetches at the same time.")
    queue: int = Field(default=1024, ge=1, description="Names waiting to be fetched; more are dropped (counted).")
    max_bytes: int = Field(default=262144, ge=4096, description="Most bytes of a home page read.")
    timeout: float = Field(default=5.0, gt=0, le=60, description="Seconds a fetch may take (connect + read).")
    revisit: float = Field(
        default=86400.0, ge=60, description="Seconds before the same name is fetched again."
    )
    user_agent: str = Field(
        default="filterproxy-categoriser/1 (school web filter)", description="User-Agent of the fetches."
    )


class ContentSettings(Section):
    """Scoring the text of HTML and plain-text pages against weighted phrase lists."""

    enabled: bool = Field(default=True, description="Score pages the proxy reads (plain HTTP, intercepted HTTPS).")
    max_bytes: int = Field(
        default=262144, ge=4096, le=4194304, description="Bytes of each page scored (the first ones); the rest passes."
    )
    phrases_dir: Path | None = Field(
        default=None,
        description="A directory of <category>.txt phrase lists that replace the packaged ones of the same category.",
    )
    cache_size: int = Field(default=8192, ge=16, description="Sites whose content finding is remembered.")
    cache_ttl: float = Field(
        default=21600.0, ge=60, description="Seconds a site's finding is trusted before its pages are read again."
    )
    background: BackgroundSettings = Field(
        default_factory=BackgroundSettings, description="The optional background categoriser (off by default)."
    )
