"""What producers (DNS, proxy) hand to the incident queue: a BlockEvent, and the sink protocol.

Producers call ``sink.submit(event)``: it never blocks and never raises; the queue owns
batching, deduplication, storage and spooling.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from filterproxy.model import Verdict

Protocol_ = Literal["dns", "http", "https"]

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud by pupils


def new_reference() -> str:
    """A short reference id shown on the block page and stored on the incident (e.g. ``K7Q-M2XD``)."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(7))
    return f"{chars[:3]}-{chars[3:]}"


@dataclass(frozen=True, slots=True)
class BlockEvent:
    """One blocked (or log-only) request, as its producer saw it."""

    at: datetime  # timezone-aware UTC
    protocol: Protocol_
    client: str  # client IP address as text
    verdict: Verdict  # carries host, site, category, source, rule, group, action
    reference: str  # shown on the block page; finds the incident
    url: str | None = None
    method: str | None = None
    qtype: str | None = None  # DNS query type name
    search_term: str | None = None
    user_agent: str | None = None
    user: str | None = None  # when known (authenticated proxy)


class IncidentSink(Protocol):
    """Anything that accepts block events without blocking the caller."""

    def submit(self, event: BlockEvent) -> None:
        """Queue the event; never blocks, never raises (overflow is counted by the sink)."""


class NullSink:
    """A sink that drops everything: for tools that classify without recording."""

    def submit(self, event: BlockEvent) -> None:
        return None
