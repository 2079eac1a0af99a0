"""Incident queue configuration. Owned by filterproxy.incidents."""

from __future__ import annotations

from pydantic import Field

from filterproxy.config.section import Section


class IncidentSettings(Section):
    """Where incidents are stored and how they are folded."""

    store: str = Field(
        default="sqlite:incidents.db",
        description="sqlite:PATH (relative to data_dir) or a postgresql:// URL shared by several sites.",
    )
    dedup_window: float = Field(default=600.0, ge=0, description="Seconds within which repeats fold into one.")
