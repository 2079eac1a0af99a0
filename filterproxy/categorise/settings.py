"""Configuration of the hostname model: which model file, and how many scored names to keep."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from filterproxy.config.section import Section


class CategoriseSettings(Section):
    """The hostname model for names no list decides (the rules per group are in policy.groups.*.model)."""

    enabled: bool = Field(default=True, description="Score names no list decides with the hostname model.")
    model: Path | None = Field(
        default=None,
        description="Model file written by `filterproxy model train`; empty: the model shipped with filterproxy.",
    )
    cache_size: int = Field(default=65536, ge=1, description="Scored names kept in memory (first in, first out).")
