"""Text forms shared by the stores and the spool: timestamps and block events.

Timestamps are stored as fixed-width UTC text (``2026-11-24T00:25:45.123456Z``) in both
SQLite and PostgreSQL, so one schema serves both and text order is time order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from filterproxy.incidents.event import BlockEvent
from filterproxy.model import Action, Category, Reason, Verdict

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def stamp(at: datetime) -> str:
    """A datetime as stored text (naive datetimes are taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime(_FORMAT)


def unstamp(text: str) -> datetime:
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)


def event_to_dict(event: BlockEvent) -> dict[str, Any]:
    """A JSON-safe dict of an event (the spool's line format)."""
    v = event.verdict
    return {
        "at": stamp(event.at),
        "protocol": event.protocol,
        "client": event.client,
        "reference": event.reference,
        "url": event.url,
        "method": event.method,
        "qtype": event.qtype,
        "search_term": event.search_term,
        "user_agent": event.user_agent,
        "user": event.user,
        "identified_by": event.identified_by,
        "identified_at": stamp(event.identified_at) if event.identified_at else None,
        "verdict": {
            "action": v.action.value,
            "reason": v.reason.value,
            "group": v.group,
            "host": v.host,
            "category": v.category.value if v.category else None,
            "source": v.source,
            "rule": v.rule,
            "site": v.site,
            "extra": [c.value for c in v.extra_categories],
        },
    }


def event_from_dict(data: dict[str, Any]) -> BlockEvent:
    """The inverse of :func:`event_to_dict`; raises KeyError/ValueError on a malformed record."""
    v = data["verdict"]
    verdict = Verdict(
        action=Action(v["action"]),
        reason=Reason(v["reason"]),
        group=v["group"],
        host=v["host"],
        category=Category(v["category"]) if v["category"] else None,
        source=v["source"],
        rule=v["rule"],
        site=v["site"],
        extra_categories=tuple(Category(c) for c in v["extra"]),
    )
    return BlockEvent(
        at=unstamp(data["at"]),
        protocol=data["protocol"],
        client=data["client"],
        verdict=verdict,
        reference=data["reference"],
        url=data["url"],
        method=data["method"],
        qtype=data["qtype"],
        search_term=data["search_term"],
        user_agent=data["user_agent"],
        user=data["user"],
        identified_by=data.get("identified_by"),  # spool lines written before identity sources lack them
        identified_at=unstamp(data["identified_at"]) if data.get("identified_at") else None,
    )
