"""Each remote source's download state: never fetched, fetching, ok or failed; when, entries, last error.

The state lives in ``<data_dir>/lists/update-state.json``, one mapping per source id, beside the
validators of the copy held (see :mod:`filterproxy.lists.update`, the only writer). ``lists stats``,
``/metrics`` and the annual review read it. Every finished attempt is also appended to
``update-log.jsonl``: the history the review reads to say when lists were stale during its period.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from filterproxy.files import append_line
from filterproxy.lists.settings import SourceSettings

log = logging.getLogger(__name__)

STATE_FILE = "update-state.json"
LOG_FILE = "update-log.jsonl"
Status = Literal["never", "fetching", "ok", "failed"]
STATUSES: tuple[Status, ...] = ("never", "fetching", "ok", "failed")
MAX_ERROR = 300  # characters of an error kept in the state (the log has it once, in full)
#: A "fetching" state older than this was left by a process that stopped mid-download.
INTERRUPTED_AFTER = 3600.0


@dataclass(frozen=True, slots=True)
class SourceState:
    """What is known about one remote source's copy."""

    source_id: str
    status: Status
    checked_at: float | None = None  # last time the held copy was confirmed current (downloaded or 304)
    entries: int | None = None  # entries of the held copy when it was downloaded
    last_error: str | None = None  # why the last attempt failed (None once one succeeds)
    attempt_at: float | None = None  # when the last attempt started
    failed_at: float | None = None  # when an attempt last failed

    def age(self, now: float) -> float | None:
        """Seconds since the copy was last confirmed current; None when it never was."""
        return None if self.checked_at is None else max(0.0, now - self.checked_at)


def state_dir(data_dir: Path) -> Path:
    return data_dir / "lists"


def remote(sources: Iterable[SourceSettings]) -> list[SourceSettings]:
    """The enabled sources that are downloaded (have a url)."""
    return [s for s in sources if s.enabled and s.url]


def load_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable list update state %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def read_states(directory: Path, sources: Iterable[SourceSettings]) -> dict[str, SourceState]:
    """The state of every enabled remote source, ``never`` for those without a record."""
    records = load_state(directory / STATE_FILE)
    return {s.id: state_of(s.id, records.get(s.id)) for s in remote(sources)}


def state_of(source_id: str, record: Any, now: float | None = None) -> SourceState:
    if not isinstance(record, dict):
        return SourceState(source_id, "never")
    checked = _number(record.get("checked_at")) or _iso(record.get("fetched_at"))
    raw = record.get("status")
    status: Status = raw if raw in STATUSES else ("ok" if checked is not None else "never")
    entries = record.get("entries")
    error = record.get("last_error")
    attempt = _number(record.get("attempt_at"))
    if status == "fetching" and (attempt or 0) < (time.time() if now is None else now) - INTERRUPTED_AFTER:
        status, error = "failed", "interrupted: the download did not finish (the process stopped?)"
    return SourceState(source_id, status, checked, entries if isinstance(entries, int) else None,
                       error if isinstance(error, str) else None, attempt,
                       _number(record.get("failed_at")))  # fmt: skip


def mark(record: dict[str, Any], status: Status, now: float, error: str | None = None) -> None:
    """Update ``record`` (one source's entry of the state file) for an attempt starting or ending."""
    record["status"] = status
    if status == "fetching":
        record["attempt_at"] = now
    elif status == "ok":
        record["checked_at"] = now
        record["last_error"] = None
    elif status == "failed":
        record["last_error"] = (error or "failed")[:MAX_ERROR]
        record["failed_at"] = now


def log_attempt(directory: Path, source_id: str, outcome: str, now: float, detail: str) -> None:
    """Append one finished attempt to the update log (never fatal: the state file has the outcome)."""
    line = json.dumps({"at": now, "source": source_id, "outcome": outcome, "detail": detail})
    try:
        append_line(directory / LOG_FILE, line)
    except OSError as exc:
        log.warning("cannot append to the list update log: %s", exc)


@dataclass(frozen=True, slots=True)
class Attempt:
    at: float
    source_id: str
    outcome: str  # updated | unchanged | failed


def read_log(directory: Path) -> list[Attempt]:
    """Every logged attempt, oldest first; unreadable lines are skipped."""
    out: list[Attempt] = []
    try:
        lines = (directory / LOG_FILE).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            record = json.loads(line)
            out.append(Attempt(float(record["at"]), str(record["source"]), str(record["outcome"])))
        except (ValueError, KeyError, TypeError):
            continue
    out.sort(key=lambda a: a.at)
    return out


def due(sources: Iterable[SourceSettings], states: dict[str, SourceState], *, interval: float,
        retry: float, now: float | None = None) -> tuple[list[SourceSettings], float]:
    """The remote sources to fetch now, and the seconds until the next one falls due."""
    now = time.time() if now is None else now
    wanted, wait = [], interval
    for source in remote(sources):
        state = states.get(source.id) or SourceState(source.id, "never")
        if state.status == "failed" and state.attempt_at is not None:
            next_at = state.attempt_at + min(retry, interval)
        elif state.checked_at is None or not source.path.exists():
            next_at = now
        else:
            next_at = state.checked_at + interval
        if next_at <= now:
            wanted.append(source)
        else:
            wait = min(wait, next_at - now)
    return wanted, wait


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _iso(value: Any) -> float | None:
    try:
        return datetime.fromisoformat(value).timestamp() if isinstance(value, str) else None
    except ValueError:
        return None
