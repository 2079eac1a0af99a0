"""SQL text and row conversion for the incident store (``?`` placeholders, one dialect)."""

from __future__ import annotations

from typing import Any

from filterproxy.incidents.codec import stamp, unstamp
from filterproxy.incidents.model import Incident, IncidentFilter, Status, Transition
from filterproxy.incidents.settings import SEVERITIES

COLUMNS = (
    "id, status, severity, node, client, device, user_name, client_group, host, site, url, category, "
    "reason, verdict, rule, source, search_term, protocol, qtype, method, user_agent, first_seen, "
    "last_seen, count, reference, action, outcome, purged_at, identified_by, identified_at"
)
_FIELDS = [c.strip() for c in COLUMNS.split(",")]
_RENAMED = {"user_name": "user", "client_group": "group"}
_TIMES = {"first_seen", "last_seen", "purged_at", "identified_at"}

MIGRATED = "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?) ON CONFLICT (version) DO NOTHING"
# One lookup per key (pipelined on PostgreSQL): equality on dedup_key keeps every planner on the
# (dedup_key, last_seen) index, whatever its statistics say. node: private addresses repeat across sites.
FIND_OPEN = (
    "SELECT id, last_seen, first_seen, dedup_key FROM incidents WHERE dedup_key = ? AND last_seen >= ? "
    "AND node = ? AND status <> 'closed' ORDER BY last_seen DESC LIMIT 1"
)
FOLD = "UPDATE incidents SET count = count + ?, first_seen = ?, last_seen = ? WHERE id = ?"
INSERT_INCIDENT = (
    "INSERT INTO incidents (node, dedup_key, severity, client, device, user_name, client_group, host, site, "
    "url, category, reason, verdict, rule, source, search_term, protocol, qtype, method, user_agent, "
    "first_seen, last_seen, count, reference, identified_by, identified_at) VALUES (" + ", ".join("?" * 26)
    + ") RETURNING id"
)
INSERT_REF = "INSERT INTO incident_refs (reference, incident_id, at) VALUES (?, ?, ?)"
UPSERT_STATE = (
    "INSERT INTO node_state (node, submitted_seq, stored_seq, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (node) DO UPDATE SET submitted_seq = excluded.submitted_seq, "
    "stored_seq = excluded.stored_seq, updated_at = excluded.updated_at"
)
ENSURE_STATE = "INSERT INTO node_state (node, updated_at) VALUES (?, ?) ON CONFLICT (node) DO NOTHING"
ADD_LOSS = "UPDATE node_state SET lost_total = lost_total + ?, dropped_total = dropped_total + ? WHERE node = ?"
GET_STATE = "SELECT submitted_seq, stored_seq, lost_total, dropped_total, digest_at FROM node_state WHERE node = ?"
BY_REF = "SELECT incident_id FROM incident_refs WHERE reference = ? ORDER BY at DESC LIMIT 1"
REFS = "SELECT reference FROM incident_refs WHERE incident_id = ? ORDER BY at, reference"
TRAIL = "SELECT from_status, to_status, by_user, at, note FROM transitions WHERE incident_id = ? ORDER BY id"
BY_MONTH = (
    "SELECT substr(first_seen, 1, 7), category, COUNT(*), SUM(count) FROM incidents "
    "WHERE first_seen >= ? AND first_seen < ? GROUP BY 1, 2 ORDER BY 1, 2"
)
TO_TRIAGE = (
    "SELECT i.id, i.category, i.first_seen, MIN(t.at) FROM incidents i JOIN transitions t "
    "ON t.incident_id = i.id AND t.from_status = 'new' WHERE i.first_seen >= ? AND i.first_seen < ? "
    "GROUP BY i.id, i.category, i.first_seen ORDER BY i.id"
)
SET_STATUS = (
    "UPDATE incidents SET status = ?, action = COALESCE(?, action), outcome = COALESCE(?, outcome) WHERE id = ?"
)
ADD_TRANSITION = (
    "INSERT INTO transitions (incident_id, from_status, to_status, by_user, at, note) VALUES (?, ?, ?, ?, ?, ?)"
)
TO_PURGE = "SELECT id, url FROM incidents WHERE last_seen < ? AND purged_at IS NULL"
PURGE = (
    "UPDATE incidents SET client = NULL, device = NULL, user_name = NULL, dedup_key = NULL, identified_at = NULL, "
    "search_term = NULL, user_agent = NULL, url = ?, purged_at = ? WHERE id = ?"
)


def maybe_time(text: str | None) -> Any:
    return unstamp(text) if text else None


def seconds_between(start: str, end: str) -> float:
    return (unstamp(end) - unstamp(start)).total_seconds()


def strip_query(url: str | None) -> str | None:
    """A URL without its query and fragment (search terms live there)."""
    if url is None:
        return None
    return url.split("?", 1)[0].split("#", 1)[0]


def incident_of(row: tuple[Any, ...], refs: list[str], trail: list[Transition]) -> Incident:
    data: dict[str, Any] = {}
    for name, value in zip(_FIELDS, row, strict=True):
        data[_RENAMED.get(name, name)] = maybe_time(value) if name in _TIMES else value
    return Incident(**data, references=refs, transitions=trail)


def transition_of(row: tuple[Any, ...]) -> Transition:
    return Transition(from_status=row[0], to_status=row[1], by=row[2], at=unstamp(row[3]), note=row[4])


def where_of(flt: IncidentFilter) -> tuple[str, list[Any]]:
    """A WHERE clause and its arguments for a filter."""
    parts: list[str] = []
    args: list[Any] = []
    simple: list[tuple[str, Any]] = [
        ("last_seen >= ?", stamp(flt.since) if flt.since else None),
        ("first_seen < ?", stamp(flt.until) if flt.until else None),
        ("status = ?", flt.status.value if isinstance(flt.status, Status) else None),
        ("category = ?", flt.category),
        ("client = ?", flt.client),
        ("lower(user_name) = lower(?)", flt.user),
    ]
    for clause, value in simple:
        if value is not None:
            parts.append(clause)
            args.append(value)
    if flt.min_severity:
        allowed = SEVERITIES[SEVERITIES.index(flt.min_severity) :]
        parts.append("severity IN (" + ", ".join("?" * len(allowed)) + ")")
        args.extend(allowed)
    return (" WHERE " + " AND ".join(parts) if parts else ""), args
