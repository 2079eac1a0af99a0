"""The weekly digest for the ICT manager and the designated safeguarding lead."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime
from pathlib import Path

from filterproxy.incidents.model import IncidentFilter, Status
from filterproxy.incidents.store import IncidentStore
from filterproxy.incidents.who import who


def build_digest(store: IncidentStore, since: datetime, until: datetime, school: str = "") -> tuple[str, str]:
    """Subject and plain-text body summarising incidents first seen in [since, until)."""
    incidents = [i for i in store.query(IncidentFilter(since=since, until=until)) if i.first_seen >= since]
    by_category = Counter(i.category or i.reason for i in incidents)
    by_severity = Counter(i.severity for i in incidents)
    awaiting = store.counts_by_status()[Status.NEW.value]
    triage = [s for _, _, s in store.time_to_triage(since, until)]
    period = f"{since:%Y-%m-%d} to {until:%Y-%m-%d}"
    lines = [f"Filtering incidents {school} {period}".replace("  ", " "), ""]
    lines.append(f"Incidents: {len(incidents)} ({sum(i.count for i in incidents)} blocked requests)")
    lines.append("By severity: " + (", ".join(f"{k} {v}" for k, v in sorted(by_severity.items())) or "none"))
    lines.append("By category:")
    lines.extend(f"  {name:<15} {count}" for name, count in by_category.most_common())
    if triage:
        lines.append(f"Median time to triage: {statistics.median(triage) / 3600:.1f} h")
    lines.append(f"Awaiting triage now: {awaiting}")
    high = [i for i in incidents if i.severity == "high"]
    if high:
        lines.extend(["", "High-severity incidents:"])
        for i in high:
            lines.append(f"  #{i.id} {i.first_seen:%Y-%m-%d %H:%M} {i.category} {i.site} ({who(i)}) {i.status.value}")
    lines.extend(["", "Details: filterproxy incidents list --since " + f"{since:%Y-%m-%d}"])
    return f"[filterproxy] weekly incident digest {period}", "\n".join(lines) + "\n"


def write_digest(directory: Path, until: datetime, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"digest-{until:%Y-%m-%d}.txt"
    path.write_text(body, encoding="utf-8")
    return path
