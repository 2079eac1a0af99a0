"""The numbers of the annual review, computed from plain records (pure functions, no I/O)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from filterproxy.incidents.model import Incident
from filterproxy.review.sources import AuditEntry

NONE = "(none)"


@dataclass(frozen=True, slots=True)
class Period:
    """Dates from ``first`` to ``last``, both included; times compare against [since, until)."""

    first: date
    last: date

    @property
    def since(self) -> datetime:
        from datetime import UTC

        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return self.since + timedelta(days=(self.last - self.first).days + 1)

    def months(self) -> list[str]:
        out, year, month = [], self.first.year, self.first.month
        while (year, month) <= (self.last.year, self.last.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


@dataclass(frozen=True, slots=True)
class TriageStats:
    triaged: int
    untriaged: int
    median_hours: float | None
    p90_hours: float | None
    max_hours: float | None


def month_of(at: datetime) -> str:
    return f"{at.year:04d}-{at.month:02d}"


def blocks_by_month(incidents: Iterable[Incident], months: Sequence[str], verdict: str = "block"
                    ) -> dict[str, list[int]]:
    """``{category: [events per month]}``: repeats folded into an incident count as events."""
    index = {m: i for i, m in enumerate(months)}
    table: dict[str, list[int]] = defaultdict(lambda: [0] * len(months))
    for incident in incidents:
        slot = index.get(month_of(incident.first_seen))
        if incident.verdict == verdict and slot is not None:
            table[incident.category or NONE][slot] += incident.count
    return dict(sorted(table.items()))


def top_sites(incidents: Iterable[Incident], per_category: int = 10) -> dict[str, list[tuple[str, int]]]:
    """The most blocked sites (registrable domains) per category, by blocked events."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for incident in incidents:
        if incident.verdict == "block":
            counts[incident.category or NONE][incident.site or incident.host] += incident.count
    return {
        cat: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:per_category]
        for cat, c in sorted(counts.items())
    }


def by_field(incidents: Iterable[Incident], name: str) -> dict[str, int]:
    counts: Counter[str] = Counter(str(getattr(i, name) or NONE) for i in incidents)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def triage_stats(triage_seconds: Sequence[float], total: int) -> TriageStats:
    """Time from an incident's first sighting to its first status change (leaving ``new``)."""
    hours = sorted(s / 3600 for s in triage_seconds)
    if not hours:
        return TriageStats(0, total, None, None, None)
    p90 = hours[min(len(hours) - 1, round(0.9 * (len(hours) - 1)))]
    return TriageStats(len(hours), total - len(hours), statistics.median(hours), p90, hours[-1])


def audit_summary(entries: Iterable[AuditEntry]) -> dict[str, int]:
    """Entries changed per action (an audit record can carry several entries)."""
    counts: Counter[str] = Counter()
    for entry in entries:
        counts[entry.action] += max(1, len(entry.entries))
    return dict(sorted(counts.items()))


OVERBLOCK_ACTIONS = ("allow", "unallow", "refused")
FALSE_POSITIVE_OUTCOMES = frozenset({"false_positive", "overblocked", "over-blocked", "unblocked"})


def overblocking(entries: Iterable[AuditEntry], incidents: Iterable[Incident]) -> dict[str, Any]:
    """Allow-list additions, refused requests and incidents closed as wrongly blocked."""
    changes = [e for e in entries if e.action in OVERBLOCK_ACTIONS]
    wrong = [i for i in incidents if (i.outcome or "").lower() in FALSE_POSITIVE_OUTCOMES]
    return {
        "changes": changes,
        "allowed": sum(len(e.entries) or 1 for e in changes if e.action == "allow"),
        "refused": sum(len(e.entries) or 1 for e in changes if e.action == "refused"),
        "false_positive_incidents": len(wrong),
    }


def people(entries: Iterable[AuditEntry], incidents: Iterable[Incident]) -> dict[str, dict[str, int]]:
    """Who did what: list changes per user and incident status changes per user (roles evidence)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"list_changes": 0, "incident_actions": 0})
    for entry in entries:
        out[entry.user]["list_changes"] += 1
    for incident in incidents:
        for step in incident.transitions:
            out[step.by]["incident_actions"] += 1
    return dict(sorted(out.items()))


AUTOMATIC_REASONS = ("model", "content")


def automatic(entries: Iterable[AuditEntry], incidents: Iterable[Incident]) -> dict[str, Any]:
    """The automatic verdicts' share of blocks, and what the review queue confirmed and rejected."""
    blocks = [i for i in incidents if i.verdict == "block"]
    auto = [i for i in blocks if i.reason in AUTOMATIC_REASONS]
    reviewed = [e for e in entries if e.detail.startswith("review queue:")]
    rejections = [e for e in reviewed if e.action == "allow"]
    return {
        "blocks": len(auto),
        "share": round(len(auto) / len(blocks), 4) if blocks else 0.0,
        "by_category": by_field(auto, "category"),
        "confirmed": sum(len(e.entries) or 1 for e in reviewed if e.action == "add"),
        "rejected": sum(len(e.entries) or 1 for e in rejections),
        "rejections": rejections,
    }
