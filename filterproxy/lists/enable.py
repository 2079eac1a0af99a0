"""Enabling and disabling list sources: `filterproxy lists enable|disable` and the console's list sources page.

The school's choice is kept in ``<data_dir>/lists/enabled.json`` (see :mod:`filterproxy.lists.overrides`,
which reads and applies it). Every change is appended to the audit log with the person's name
(actions ``source.enable`` / ``source.disable``).

The running service notices the change by itself: ``enabled`` is part of each source's
definition, so the sources' fingerprint (which the reload watch compares) changes with it; the
file is also on the watch's list and a reload request is written as `lists reload` does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from filterproxy.config.fields import nearest
from filterproxy.config.model import Config
from filterproxy.errors import ConfigError, IllegalOverrideError
from filterproxy.files import write_atomic
from filterproxy.lists.loader import defined_sources, local_files
from filterproxy.lists.local import audit
from filterproxy.lists.overrides import override_path, read_overrides
from filterproxy.lists.reload import request_reload
from filterproxy.model import Category


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
