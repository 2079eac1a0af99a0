"""Who an incident names, in words: the person (with how and when we knew), the device, the address.

The age is the time from the identification to the incident's first block: a RADIUS session
started 3 hours before, a proxy login checked 2 minutes before. Purged incidents name nobody.
"""

from __future__ import annotations

from datetime import datetime

from filterproxy.incidents.model import Incident


def age(identified_at: datetime | None, at: datetime) -> str | None:
    """``12 s``, ``5 min``, ``3 h`` or ``2 d`` between identification and ``at`` (None when unknown)."""
    if identified_at is None:
        return None
    seconds = max(0.0, (at - identified_at).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def person(incident: Incident) -> str | None:
    """``p.smith (radius, 5 min before)``, or None when no person is known."""
    if not incident.user:
        return None
    how = incident.identified_by or "unknown source"
    before = age(incident.identified_at, incident.first_seen)
    return f"{incident.user} ({how}, {before} before)" if before else f"{incident.user} ({how})"


def who(incident: Incident) -> str:
    """Person, device and address, as far as known: ``p.smith (radius, 5 min before) laptop-7 10.1.2.3``."""
    device = f"{incident.device} (dhcp)" if incident.device and incident.identified_by == "dhcp" else incident.device
    parts = [person(incident), device, incident.client]
    return " ".join(p for p in parts if p) or "(purged)"
