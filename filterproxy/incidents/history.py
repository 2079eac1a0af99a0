"""A person's history: their incidents an hour either side of one incident (one store query).

As a safeguarding report does: what else did this pupil run into around the time of the
concern? The window runs from ``hours`` before the incident's first block to ``hours`` after
its last; the person is the incident's own unless another is named.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from filterproxy.errors import IncidentNotFound
from filterproxy.incidents.model import Incident, IncidentFilter
from filterproxy.incidents.store import IncidentStore


def history(
    store: IncidentStore,
    *,
    user: str | None,
    around: Incident | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    hours: float = 1.0,
) -> tuple[str, datetime | None, datetime | None, list[Incident]]:
    """(person, window start, window end, their incidents in it, oldest first)."""
    if around is not None:
        since = around.first_seen - timedelta(hours=hours)
        until = around.last_seen + timedelta(hours=hours)
        user = user or around.user
    if not user:
        what = f"incident #{around.id} names nobody" if around is not None else "no person given"
        raise IncidentNotFound(f"{what}: give --user NAME")
    found = store.query(IncidentFilter(user=user, since=since, until=until))
    return user, since, until, sorted(found, key=lambda i: (i.first_seen, i.id))
