"""The DfE filtering and monitoring standards, and which evidence in the review meets each.

Standards as published in "Meeting digital and technology standards in schools and colleges:
filtering and monitoring standards" (Department for Education). The report states, per
standard, the evidence it contains and the gaps it found; governors judge the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Standard:
    number: int
    title: str
    evidence: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # anchors of report sections


def assess(data: dict[str, Any]) -> list[Standard]:
    """One :class:`Standard` per DfE standard, filled from the review's numbers."""
    return [_roles(data), _annual(data), _blocking(data), _monitoring(data)]


def _roles(data: dict[str, Any]) -> Standard:
    title = "Identify and assign roles and responsibilities to manage filtering and monitoring systems"
    s = Standard(1, title, sections=["people", "signoff"])
    people = data["people"]
    s.evidence.append(f"{len(people)} staff account(s) changed lists or handled incidents in the period "
                      "(every change and status move is attributed).")
    if not people:
        s.gaps.append("No list change or incident action is attributed to anyone in the period.")
    s.gaps.append("Name the SLT member, DSL, governor and IT provider in the sign-off box.")
    return s


def _annual(data: dict[str, Any]) -> Standard:
    s = Standard(2, "Review filtering and monitoring provision at least annually",
                 sections=["sources", "changes", "selftest"])
    s.evidence.append(f"This report covers {data['period'].first} to {data['period'].last}.")
    s.evidence.append(f"{len(data['sources'])} list source(s) with licence, age and size; "
                      f"{len(data['audit'])} list change record(s), each with its reason.")
    stale = [x.id for x in data["sources"] if x.age_days is None or x.age_days > data["stale_days"]]
    if stale:
        s.gaps.append(f"List source(s) missing or older than {data['stale_days']} days: {', '.join(stale)}.")
    spells = sorted({x.source_id for x in data.get("stale_spells", [])})
    if spells:
        s.gaps.append(f"Downloaded list(s) stale for a time during the period: {', '.join(spells)} (section 6).")
    if not data["selftest_runs"]:
        s.gaps.append("No filter self-test was run in the period (`filterproxy selftest`).")
    return s


def _blocking(data: dict[str, Any]) -> Standard:
    title = "Block harmful and inappropriate content without unreasonably impacting teaching and learning"
    s = Standard(3, title, sections=["blocks", "top", "selftest", "overblocking"])
    total = sum(sum(v) for v in data["blocks"].values())
    s.evidence.append(f"{total} blocked request(s) recorded across {len(data['blocks'])} categories.")
    over = data["overblocking"]
    s.evidence.append(f"Over-blocking: {over['allowed']} name(s) allowed after review, "
                      f"{over['refused']} request(s) refused, "
                      f"{over['false_positive_incidents']} incident(s) closed as wrongly blocked.")
    for group, summary in data["selftest"].items():
        if summary["last_passed"] is False:
            failures = ", ".join(summary["last_failures"])
            s.gaps.append(f"The last self-test of group '{group}' failed: {failures}.")
    if not any(x.category == "illegal" for x in data["sources"]):
        s.gaps.append("No 'illegal' feed (IWF / CTIRU) is configured: the DfE expects schools to block it.")
    return s


def _monitoring(data: dict[str, Any]) -> Standard:
    s = Standard(4, "Have effective monitoring strategies that meet the safeguarding needs of the school",
                 sections=["incidents", "triage"])
    s.evidence.append(f"{data['incident_total']} incident(s) recorded; by status: "
                      + ", ".join(f"{k} {v}" for k, v in data["by_status"].items()) + ".")
    if data["incident_total"]:
        sources = ", ".join(f"{k} {v}" for k, v in data.get("by_identification", {}).items())
        s.evidence.append(f"{data.get('named_total', 0)} of {data['incident_total']} incident(s) name the "
                          f"individual; identified by: {sources}.")
    triage = data["triage"]
    if triage.median_hours is not None:
        s.evidence.append(f"Median time to triage {triage.median_hours:.1f} h (90th percentile "
                          f"{triage.p90_hours:.1f} h) over {triage.triaged} incident(s).")
    if triage.untriaged:
        s.gaps.append(f"{triage.untriaged} incident(s) from the period were never triaged.")
    return s
