"""Enabling and disabling list sources without editing ``blocklists/sources.yaml``.

``sources.yaml`` documents each source's licence in comments, so it is never rewritten. The
school's choice is kept in ``<data_dir>/lists/enabled.json`` instead, a JSON object of source id
to ``true``/``false`` (replaced atomically), which :func:`filterproxy.lists.loader.resolve_sources`
applies on top of the file. An override equal to the file's own value is dropped, so the file
only holds real differences. Changing them (audited, reloaded) is
:func:`filterproxy.lists.enable.set_enabled`; this module only reads and applies the file, so the
loader and the reload watch can use it without importing the commands above them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from filterproxy.errors import ConfigError
from filterproxy.lists.settings import SourceSettings

OVERRIDE_FILE = Path("lists") / "enabled.json"


def override_path(data_dir: Path) -> Path:
    return data_dir / OVERRIDE_FILE


def read_overrides(data_dir: Path) -> dict[str, bool]:
    """The overrides in force (empty when there is no file); a malformed file is a ConfigError."""
    path = override_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read source overrides: {exc}") from None
    try:
        data = json.loads(text or "{}")
    except ValueError as exc:
        raise ConfigError(f"{path}: not JSON ({exc}); fix it, or delete it to go back to sources.yaml") from None
    if not isinstance(data, dict) or not all(isinstance(v, bool) for v in data.values()):
        raise ConfigError(f"{path}: expected an object of source id to true/false")
    return {str(k): v for k, v in data.items()}


def apply_overrides(sources: Sequence[SourceSettings], overrides: dict[str, bool]) -> list[SourceSettings]:
    """``sources`` with each overridden ``enabled`` replaced (ids no longer defined are ignored)."""
    return [s.model_copy(update={"enabled": overrides[s.id]}) if s.id in overrides and overrides[s.id] != s.enabled
            else s for s in sources]
