"""The incident as the ICT manager sees it: who, what, when, status, and its audit trail."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from filterproxy.errors import LifecycleError


class Status(enum.StrEnum):
    """The lifecycle, in order. Moves go forward only; ``closed`` is reachable from any open state."""

    NEW = "new"
    TRIAGED = "triaged"
    REPORTED = "reported"  # to the Headteacher
    ESCALATED = "escalated"  # to the ISP or the police
    CLOSED = "closed"


_ORDER = {status: rank for rank, status in enumerate(Status)}


def check_transition(current: Status, target: Status) -> None:
    """Raise :class:`LifecycleError` unless ``current -> target`` moves forward."""
    if current is Status.CLOSED:
        raise LifecycleError(f"incident is closed; it cannot become {target.value}")
    if _ORDER[target] <= _ORDER[current]:
        raise LifecycleError(f"cannot move an incident from {current.value} back to {target.value}")


class Transition(BaseModel):
    """One status change: who (OS user), when, and why."""

    model_config = ConfigDict(frozen=True)

    from_status: Status
    to_status: Status
    by: str
    at: datetime
    note: str


class Incident(BaseModel):
    """One incident: repeats of a client reaching a site in one category within the dedup window."""

    model_config = ConfigDict(frozen=True)

    id: int
    status: Status = Status.NEW
    severity: str = "low"
    node: str = ""
    # who
    client: str | None = None  # None once purged by retention
    device: str | None = None
    user: str | None = None
    identified_by: str | None = None  # radius | proxy_auth | inventory | dhcp
    identified_at: datetime | None = None  # when that source identified the person
    group: str = ""
    # what
    host: str = ""
    site: str = ""
    url: str | None = None
    category: str | None = None
    reason: str = ""
    verdict: str = "block"  # block or log
    rule: str | None = None
    source: str | None = None
    search_term: str | None = None
    protocol: str = "dns"
    qtype: str | None = None
    method: str | None = None
    user_agent: str | None = None
    # when
    first_seen: datetime = Field(default_factory=lambda: datetime.now(UTC))
    last_seen: datetime = Field(default_factory=lambda: datetime.now(UTC))
    count: int = 1
    # follow-up
    reference: str = ""  # the first reference; all are in ``references``
    action: str | None = None  # what staff did
    outcome: str | None = None
    purged_at: datetime | None = None
    references: list[str] = Field(default=[])
    transitions: list[Transition] = Field(default=[])


class IncidentFilter(BaseModel):
    """Which incidents a query returns (all given conditions hold)."""

    model_config = ConfigDict(frozen=True)

    since: datetime | None = None  # last_seen >= since
    until: datetime | None = None  # first_seen < until
    status: Status | None = None
    category: str | None = None
    client: str | None = None
    user: str | None = None  # case-insensitive
    min_severity: str | None = None
    limit: int | None = None
