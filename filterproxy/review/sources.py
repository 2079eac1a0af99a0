"""Reading the evidence the annual review is built from: audit log, self-test history, list files.

Each reader is tolerant in the way a report must be: a malformed line is skipped and counted
(the report says how many), never silently lost and never fatal.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from filterproxy.lists.settings import SourceSettings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of ``<data_dir>/audit.jsonl`` (written by :func:`filterproxy.lists.local.audit`)."""

    at: datetime
    user: str
    action: str  # add | remove | allow | unallow | refused
    category: str | None
    entries: tuple[str, ...]
    reason: str
    detail: str = ""  # e.g. "review queue: automatic verdict rejected"


@dataclass(slots=True)
class Loaded(Generic[T]):
    """Records read from a file, with how many lines could not be read."""

    items: list[T] = field(default_factory=list)
    bad_lines: int = 0


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A configured list source as the review shows it."""

    id: str
    category: str
    licence: str
    attribution: str
    url: str | None
    path: str
    exists: bool
    age_days: float | None
    size_bytes: int
    entries: int | None
    download: str | None = None  # a downloaded source's state: never | fetching | ok | failed
    last_error: str | None = None  # why its last download failed


def read_audit(path: Path, since: datetime, until: datetime) -> Loaded[AuditEntry]:
    """Audit entries with ``since <= at < until``, oldest first."""
    loaded: Loaded[AuditEntry] = Loaded()
    for record in _json_lines(path, loaded):
        if isinstance(record, dict) and str(record.get("action", "")).startswith("console."):
            continue  # a console sign-in or decision, not a list change (the list change has its own line)
        try:
            entry = AuditEntry(
                at=_aware(datetime.fromisoformat(record["at"])),
                user=str(record["user"]),
                action=str(record["action"]),
                category=record.get("category"),
                entries=tuple(str(e) for e in record.get("entries") or ()),
                reason=str(record.get("reason") or ""),
                detail=str(record.get("detail") or ""),
            )
        except (KeyError, TypeError, ValueError):
            loaded.bad_lines += 1
            continue
        if since <= entry.at < until:
            loaded.items.append(entry)
    loaded.items.sort(key=lambda e: e.at)
    return loaded


def _json_lines(path: Path, loaded: Loaded[Any]) -> Iterable[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                loaded.bad_lines += 1
                continue
            if isinstance(record, dict):
                yield record
            else:
                loaded.bad_lines += 1


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def describe_sources(sources: Iterable[SourceSettings], now: float | None = None) -> list[SourceInfo]:
    now = time.time() if now is None else now
    return [_describe(s, now) for s in sources if s.enabled]


def _describe(source: SourceSettings, now: float) -> SourceInfo:
    files = _files_of(source.path)
    mtimes = [f.stat().st_mtime for f in files]
    return SourceInfo(
        id=source.id,
        category=source.category.value,
        licence=source.licence or "(not stated)",
        attribution=source.attribution,
        url=source.url,
        path=str(source.path),
        exists=bool(files),
        age_days=(now - max(mtimes)) / 86400 if mtimes else None,
        size_bytes=sum(f.stat().st_size for f in files),
        entries=sum(_count_entries(f) for f in files) if files else None,
    )


def _files_of(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.name in ("domains", "urls"))
    return []


def _count_entries(path: Path) -> int:
    """Non-empty, non-comment lines: what the list claims (the loader's own count may differ)."""
    if path.suffixes[-2:] == [".tar", ".gz"]:
        return 0  # a tarball: counting needs the loader; the metrics give the loaded figure
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as text:
        return sum(1 for line in text if line.strip() and not line.lstrip().startswith(("#", "!")))
