"""When the downloaded lists were stale: during the review's period (from the update log) and at generation.

A downloaded list is *stale* once its copy has not been confirmed current (downloaded, or "not
modified") for longer than the review's ``stale_days``. The update log
(:mod:`filterproxy.lists.state`) records every attempt; a source's record starts with its first
attempt, so a list counts as stale from then until its first good download if that took too long.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from filterproxy.lists.state import Attempt, SourceState

OK_OUTCOMES = frozenset({"updated", "unchanged"})


@dataclass(frozen=True, slots=True)
class StaleSpell:
    """One stretch of time a source's list was stale; ``ongoing`` when it still was at the period's end."""

    source_id: str
    start: datetime
    end: datetime
    ongoing: bool

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400


def stale_spells(attempts: Iterable[Attempt], source_ids: Iterable[str], since: datetime, until: datetime,
                 max_age: float, now: float) -> list[StaleSpell]:  # fmt: skip
    """Every stale spell of ``source_ids`` overlapping ``[since, until)``, by source then time."""
    by_source: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        by_source.setdefault(attempt.source_id, []).append(attempt)
    end = min(until.timestamp(), now)
    out: list[StaleSpell] = []
    for sid in sorted(set(source_ids)):
        history = sorted(by_source.get(sid, []), key=lambda a: a.at)
        if not history:
            continue  # never attempted: the state at generation says "never downloaded"
        marks = [history[0].at] + [a.at for a in history if a.outcome in OK_OUTCOMES]
        for fresh, following in zip(marks, [*marks[1:], None], strict=True):
            stale_from = fresh + max_age
            stale_to = end if following is None else following
            start, stop = max(stale_from, since.timestamp()), min(stale_to, end)
            if stop > start:
                out.append(StaleSpell(sid, _at(start), _at(stop), ongoing=following is None and stale_to >= end))
    return out


def stale_now(states: Iterable[SourceState], max_age: float, now: float) -> list[tuple[str, str]]:
    """(source id, why) for each downloaded source stale when the report is generated."""
    out = []
    for state in states:
        age = state.age(now)
        if state.checked_at is None:
            why = "never downloaded" + (f" (last error: {state.last_error})" if state.last_error else "")
        elif age is not None and age > max_age:
            why = f"not confirmed current for {age / 86400:.0f} days"
            why += f" (last error: {state.last_error})" if state.last_error else ""
        else:
            continue
        out.append((state.source_id, why))
    return out


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
