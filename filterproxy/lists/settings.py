"""List configuration: where category lists come from and how strictly they are parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from filterproxy.config.section import Section
from filterproxy.model import Category

ListFormat = Literal["auto", "plain", "hosts", "adblock", "urls", "ut1", "rpz"]


class SourceSettings(Section):
    """One list source: a file, directory or tarball of one category."""

    id: str = Field(description="Stable id shown in verdicts and incidents, e.g. 'ut1/gambling'.")
    category: Category = Field(description="Category the entries belong to ('illegal' for IWF/CTIRU feeds).")
    path: Path = Field(description="Local file, .gz, UT1 directory or .tar.gz; relative to the config file.")
    format: ListFormat = Field(default="auto", description="List format; 'auto' guesses from name and content.")
    url: str | None = Field(default=None, description="Where `filterproxy lists update` downloads it from.")
    ut1_category: str | None = Field(default=None, description="UT1 folder inside a tarball, e.g. 'gambling'.")
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-fA-F]{64}$", description="Expected SHA-256 of the download (optional pin)."
    )
    licence: str = Field(default="", description="Licence of the list, shown in `lists stats` and the review.")
    attribution: str = Field(default="", description="Attribution text required by the licence (CC BY...).")
    enabled: bool = Field(default=True, description="Whether the source is used.")
    max_bad_share: float | None = Field(
        default=None, ge=0, le=1, description="Override of lists.max_bad_share for this source."
    )

    def bad_share_limit(self, default: float) -> float:
        """The share of malformed lines this source tolerates: its own override, else ``default``."""
        return self.max_bad_share if self.max_bad_share is not None else default


class ListsSettings(Section):
    """Category list sources and the school's own lists."""

    sources_file: Path | None = Field(
        default=None, description="YAML file with a `sources:` list (blocklists/sources.yaml)."
    )
    sources: list[SourceSettings] = Field(default=[], description="Sources in addition to sources_file.")
    local_dir: Path | None = Field(
        default=None, description="The school's local allow/deny lists; default <data_dir>/local."
    )
    max_bad_share: float = Field(
        default=0.05, ge=0, le=1, description="Reject a source whose malformed lines exceed this share."
    )
    watch: bool = Field(default=True, description="Reload when a list file changes (checked every few seconds).")
    watch_interval: float = Field(default=5.0, gt=0, description="Seconds between checks for changed files.")
    update_interval_hours: float = Field(
        default=24.0, ge=0, description="How often the service downloads the remote sources itself (at once at "
        "the first start, when never fetched); 0 disables the service's own downloads."
    )
    download_dir: Path | None = Field(
        default=None,
        description="Keep downloaded lists under <download_dir>/<source id>/ instead of each source's path "
        "(for read-only installs, e.g. <data_dir>/downloads under systemd); relative to the config file.",
    )
    offline: bool = Field(
        default=False,
        description="Never download: serve only the lists on disk (starter lists, copies already held). "
        "For air-gapped schools; `lists update` refuses and the service fetches nothing.",
    )
    mirror: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$",
        description="Fetch every remote source from <mirror>/<source id>/<file name> instead of its url "
        "(a trust's local mirror, or a test server), e.g. http://lists.trust.lan/filterproxy/.",
    )
    ip_format: Literal["reject", "iplist"] = Field(
        default="iplist", description="IP entries in domain lists go to the IP list (never the domain index)."
    )
