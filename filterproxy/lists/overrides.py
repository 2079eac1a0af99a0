"""Enabling and disabling list sources without editing ``blocklists/sources.yaml``.

``sources.yaml`` documents each source's licence in comments, so it is never rewritten. The
school's choice is kept in ``<data_dir>/lists/enabled.json`` instead, a JSON object of source id
to ``true``/``false`` (replaced atomically), which :func:`filterproxy.lists.loader.resolve_sources`
applies on top of the file. An override equal to the file's own value is dropped, so the file
only holds real differences. Every change is appended to the audit log with the person's name
(actions ``source.enable`` / ``source.disable``); `filterproxy lists enable|disable` and the
console's list sources page both go through :func:`set_enabled`.

The running service notices the change by itself: ``enabled`` is part of each source's
definition, so the sources' fingerprint (which the reload watch compares) changes with it; the
file is also on the watch's list and a reload request is written as `lists reload` does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from filterproxy.config.fields import nearest
from filterproxy.errors import ConfigError, IllegalOverrideError
from filterproxy.files import write_atomic
from filterproxy.lists.settings import SourceSettings
from filterproxy.model import Category

if TYPE_CHECKING:
    from filterproxy.config.model import Config

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


@dataclass(frozen=True, slots=True)
class Change:
    source_id: str
    enabled: bool
    changed: bool  # False when the source was already in that state


def set_enabled(config: Config, ids: Sequence[str], enabled: bool, reason: str,
                user: str | None = None) -> list[Change]:
    """Enable or disable the sources ``ids``; audited (``user`` default: the OS user) and reloaded.

    Unknown ids are refused (nothing is changed) with the nearest known id; a reason is required.
    """
    from filterproxy.lists.loader import defined_sources, local_files
    from filterproxy.lists.local import audit
    from filterproxy.lists.reload import request_reload

    if not reason.strip():
        raise ConfigError("give a reason (it is kept in the audit log for the annual review)")
    wanted = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if not wanted:
        raise ConfigError("give at least one source id (see `filterproxy lists stats`)")
    defined = {s.id: s for s in defined_sources(config)}
    unknown = [i for i in wanted if i not in defined]
    if unknown:
        raise ConfigError("; ".join(_unknown(i, list(defined)) for i in unknown))
    illegal = [i for i in wanted if not enabled and defined[i].category is Category.ILLEGAL]
    if illegal:  # the provider's illegal-content feed is not the school's to switch off
        audit(local_files(config), "refused", illegal, reason.strip(), Category.ILLEGAL,
              detail="disable refused: an illegal-content feed", user=user)
        raise IllegalOverrideError(f"refused: {', '.join(illegal)} is an illegal-content feed; it cannot be "
                                   "disabled here (the attempt was recorded in the audit log)")
    overrides = read_overrides(config.data_dir)
    changes = []
    for source_id in wanted:
        before = overrides.get(source_id, defined[source_id].enabled)
        if enabled == defined[source_id].enabled:
            overrides.pop(source_id, None)  # back to what sources.yaml says: no override needed
        else:
            overrides[source_id] = enabled
        changes.append(Change(source_id, enabled, before != enabled))
    write_atomic(override_path(config.data_dir), json.dumps(dict(sorted(overrides.items())), indent=2) + "\n")
    changed = [c.source_id for c in changes if c.changed]
    audit(local_files(config), "source.enable" if enabled else "source.disable", [c.source_id for c in changes],
          reason.strip(), detail=f"changed: {', '.join(changed) or 'none'}", user=user)
    if changed:
        request_reload(config.data_dir)
    return changes


def _unknown(source_id: str, known: list[str]) -> str:
    near = nearest(source_id, known, cutoff=0.5)
    return f"unknown source {source_id!r}" + (f" (did you mean {near!r}?)" if near else "")
