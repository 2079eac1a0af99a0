"""Assembling the annual review: gather the evidence, compute the figures, render one HTML file.

:func:`gather` does the I/O (incident store, audit log, self-test history, list files,
Prometheus); :func:`build_context` is pure; :func:`render` fills the Jinja2 template. The HTML
is self-contained (inline SVG charts and CSS) so it can be mailed, archived and printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jinja2
from markupsafe import Markup

from filterproxy import __version__
from filterproxy.incidents.model import Incident
from filterproxy.model import CATEGORY_TITLES, Category
from filterproxy.review import charts, figures, standards
from filterproxy.review.figures import Period
from filterproxy.review.freshness import StaleSpell
from filterproxy.review.sources import AuditEntry, SourceInfo
from filterproxy.selftest.results import Run, latest_per_group


@dataclass(slots=True)
class Evidence:
    """Everything the review is computed from."""

    period: Period
    incidents: list[Incident]
    triage_seconds: list[float]
    audit: list[AuditEntry]
    runs: list[Run]
    sources: list[SourceInfo]
    school: str = "Our School"
    stale_days: int = 7
    history: dict[str, list[float | None]] | None = None
    notes: list[str] = field(default_factory=list)  # what could not be read, said plainly
    stale_spells: list[StaleSpell] = field(default_factory=list)  # downloaded lists stale in the period
    stale_now: list[tuple[str, str]] = field(default_factory=list)  # (source id, why) at generation


def build_context(ev: Evidence, now: datetime | None = None) -> dict[str, Any]:
    """Every number the report shows, keyed for the template (and for tests)."""
    months = ev.period.months()
    blocks = figures.blocks_by_month(ev.incidents, months)
    data: dict[str, Any] = {
        "school": ev.school,
        "period": ev.period,
        "generated": (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "months": months,
        "blocks": blocks,
        "block_totals": {c: sum(v) for c, v in blocks.items()},
        "logged": figures.blocks_by_month(ev.incidents, months, verdict="log"),
        "top_sites": figures.top_sites(ev.incidents),
        "incident_total": len(ev.incidents),
        "by_status": figures.by_field(ev.incidents, "status"),
        "by_outcome": figures.by_field(ev.incidents, "outcome"),
        "by_severity": figures.by_field(ev.incidents, "severity"),
        # how incidents were traced to a person (radius, proxy_auth, inventory, dhcp): counts only, no names
        "by_identification": figures.by_field(ev.incidents, "identified_by"),
        "named_total": sum(1 for i in ev.incidents if i.user),
        "triage": figures.triage_stats(ev.triage_seconds, len(ev.incidents)),
        "sources": ev.sources,
        "stale_days": ev.stale_days,
        "stale_spells": ev.stale_spells,
        "stale_now": ev.stale_now,
        "downloaded": [s for s in ev.sources if s.download is not None],
        "audit": ev.audit,
        "audit_summary": figures.audit_summary(ev.audit),
        "overblocking": figures.overblocking(ev.audit, ev.incidents),
        "automatic": figures.automatic(ev.audit, ev.incidents),
        "people": figures.people(ev.audit, ev.incidents),
        "selftest_runs": ev.runs,
        "selftest": _selftest_summary(ev.runs),
        "history": ev.history,
        "notes": ev.notes,
        "titles": {c.value: t for c, t in CATEGORY_TITLES.items()},
    }
    data["standards"] = standards.assess(data)
    return data


def _selftest_summary(runs: list[Run]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for group, last in sorted(latest_per_group(runs).items()):
        mine = [r for r in runs if r.group == group]
        out[group] = {
            "runs": len(mine),
            "passed": sum(1 for r in mine if r.passed),
            "failed": sum(1 for r in mine if not r.passed),
            "last_at": last.at.strftime("%Y-%m-%d %H:%M"),
            "last_passed": last.passed,
            "last_failures": [f"{p.target} ({p.path}: {p.observed})" for p in last.failures],
        }
    return out


def charts_for(data: dict[str, Any]) -> dict[str, str]:
    months = data["months"]
    out = {"blocks": charts.stacked_bars(data["blocks"], months, "Blocked requests per month", "requests")}
    if data["by_status"]:
        out["status"] = charts.horizontal_bars(data["by_status"], "Incidents by status", "incidents")
    if data["history"]:
        filled = {c: [v or 0.0 for v in row] for c, row in data["history"].items()}
        out["history"] = charts.stacked_bars(filled, months, "Blocked requests (Prometheus)", "requests")
    return out


def render(data: dict[str, Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("filterproxy.review", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cat_title"] = lambda c: data["titles"].get(c, c)
    svgs = {k: Markup(v) for k, v in charts_for(data).items()}
    return env.get_template("review.html").render(**data, charts=svgs, categories=[c.value for c in Category])
