"""The last good copy of each list source, for when a new version is rejected (Blocky's behaviour).

Every build that accepts a source keeps a copy of its file or directory under
``<data_dir>/lists/last-good/``. When a later version has more malformed lines than the source
tolerates, the build parses that copy instead, marks the source as stale (the reason is kept in
:attr:`SourceInfo.stale`, shown by ``lists stats`` and the ``filterproxy_lists_source_rejected``
metric) and the other sources still update. A source rejected before it ever had a good copy
still fails the build, so the previous index stays in service.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from filterproxy.lists.settings import SourceSettings

DIRECTORY = "last-good"


def _slot(root: Path, source: SourceSettings) -> Path:
    return root / source.id.replace("/", "__") / source.path.name


def _signature(path: Path) -> list[tuple[str, int, int]]:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return [(str(p.relative_to(path) if path.is_dir() else p.name), p.stat().st_size, p.stat().st_mtime_ns)
            for p in files if p.exists()]  # fmt: skip


def keep(source: SourceSettings, root: Path) -> None:
    """Copy an accepted source beside its earlier copy, then swap it in (unchanged copies are kept)."""
    slot = _slot(root, source)
    if not source.path.exists() or (slot.exists() and _signature(slot) == _signature(source.path)):
        return
    temp = slot.with_name(slot.name + ".tmp")
    shutil.rmtree(temp, ignore_errors=True)
    temp.unlink(missing_ok=True)
    temp.parent.mkdir(parents=True, exist_ok=True)
    if source.path.is_dir():
        shutil.copytree(source.path, temp)
    else:
        shutil.copy2(source.path, temp)
    if slot.is_dir():
        shutil.rmtree(slot)
    temp.replace(slot)


def last_good(source: SourceSettings, root: Path) -> SourceSettings | None:
    """The source pointed at its last good copy, or None if it never had one."""
    slot = _slot(root, source)
    return source.model_copy(update={"path": slot}) if slot.exists() else None
