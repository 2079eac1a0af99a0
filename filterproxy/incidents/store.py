"""The incident store: one schema over SQLite or PostgreSQL, written by the queue's writer.

Schema (timestamps are UTC text ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; text order is time order)::

    incidents      id, node, dedup_key, status, severity, client, device, user_name,
                   client_group, host, site, url, category, reason, verdict (block|log), rule,
                   source, search_term, protocol (dns|http|https), qtype, method, user_agent,
                   first_seen, last_seen, count, reference (first), action, outcome, purged_at
    incident_refs  reference -> incident_id, at   every reference a block page showed (not unique:
                   references are short; the newest wins)
    transitions    incident_id, from_status, to_status, by_user, at, note   the audit trail
    node_state     node, submitted_seq, stored_seq, lost_total, dropped_total, digest_at
    schema_migrations  version, applied_at

Retention purging sets client, device, user_name, dedup_key, search_term, user_agent to NULL,
cuts the URL query, and stamps purged_at. Read API for reports: :meth:`IncidentStore.query`,
:meth:`IncidentStore.counts_by_month`, :meth:`IncidentStore.time_to_triage`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import filterproxy.incidents.queries as q
from filterproxy.errors import IncidentError, IncidentNotFound
from filterproxy.incidents.backends import Backend, backend_for
from filterproxy.incidents.codec import stamp
from filterproxy.incidents.fold import Folded, insert_args, match_open
from filterproxy.incidents.model import Incident, IncidentFilter, Status, check_transition
from filterproxy.incidents.schema import MIGRATIONS
from filterproxy.incidents.settings import IncidentSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NodeState:
    """Per-filter bookkeeping: how far the sequence got, and what was lost or dropped."""

    submitted_seq: int = 0
    stored_seq: int = 0
    lost_total: int = 0
    dropped_total: int = 0
    digest_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Written:
    """What one batch did: new incident ids with severity, and how many events folded."""

    new: list[tuple[int, Folded]]
    folded: int


class IncidentStore:
    """Synchronous store API; one connection, reopened after a failure."""

    def __init__(self, backend: Backend, *, window: float = 600.0) -> None:
        self.backend = backend
        self.window = timedelta(seconds=window)
        self._conn: Any = None

    # connection --------------------------------------------------------------------------
    def open(self) -> None:
        """Connect and apply migrations; raise StoreUnavailable when the database is down."""
        with self._guard():
            self._connection()
            self._migrate()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # closing a broken connection may itself fail
                log.debug("closing %s failed", self.backend.describe(), exc_info=True)
            self._conn = None

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self.backend.connect()
        return self._conn

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except IncidentError:
            self.close()
            raise
        except Exception as exc:
            translated = self.backend.translate(exc)
            if translated is None:
                raise
            self.close()
            raise translated from exc

    def _run(self, text: str, args: tuple[Any, ...] = ()) -> Any:
        return self._connection().execute(self.backend.sql(text), args)

    def _migrate(self) -> None:
        conn = self._connection()
        self._run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
        done = {row[0] for row in self._run("SELECT version FROM schema_migrations").fetchall()}
        for version, statements in MIGRATIONS:
            if version in done:
                continue
            with self.backend.transaction(conn):
                for statement in statements:
                    self._run(statement.replace("{id}", self.backend.id_column))
                self._run(q.MIGRATED, (version, stamp(datetime.now(UTC))))
            log.info("incident store %s: applied migration %s", self.backend.describe(), version)

    # writing -----------------------------------------------------------------------------
    def write(self, groups: list[Folded], node: str, submitted: int, stored: int) -> Written:
        """Fold groups into incidents in one transaction, with the node's sequence checkpoint."""
        with self._guard():
            conn = self._connection()
            with self.backend.transaction(conn):
                found = self._open_incidents(groups, node)
                folds, ids, fresh = match_open(groups, found)
                cursor = conn.cursor()
                cursor.executemany(self.backend.sql(q.FOLD), folds)
                rows = [insert_args(groups[i], node) for i in fresh]
                inserted = self.backend.fetch_each(conn, self.backend.sql(q.INSERT_INCIDENT), rows)
                ids.update((i, int(row[0])) for i, row in zip(fresh, inserted, strict=True) if row is not None)
                refs = [(ref, ids[i], stamp(at)) for i, g in enumerate(groups) for ref, at in g.references]
                cursor.executemany(self.backend.sql(q.INSERT_REF), refs)
                self._checkpoint(node, submitted, stored)
            new = [(ids[i], groups[i]) for i in fresh]
            return Written(new, sum(g.count for g in groups) - len(new))

    def _open_incidents(self, groups: list[Folded], node: str) -> dict[str, tuple[Any, ...]]:
        """The newest open incident of this node per dedup key that is still inside the window."""
        first: dict[str, Folded] = {}
        for group in groups:
            first.setdefault(group.key, group)  # only the first group of a key may continue a stored one
        args = [(key, stamp(g.first_at - self.window), node) for key, g in first.items()]
        rows = self.backend.fetch_each(self._connection(), self.backend.sql(q.FIND_OPEN), args)
        return {row[3]: row for row in rows if row is not None}

    def _checkpoint(self, node: str, submitted: int, stored: int) -> None:
        self._run(q.UPSERT_STATE, (node, submitted, stored, stamp(datetime.now(UTC))))

    def record_loss(self, node: str, lost: int, dropped: int = 0) -> None:
        with self._guard():
            self._run(q.ENSURE_STATE, (node, stamp(datetime.now(UTC))))
            self._run(q.ADD_LOSS, (lost, dropped, node))

    def state(self, node: str) -> NodeState:
        with self._guard():
            row = self._run(q.GET_STATE, (node,)).fetchone()
        if row is None:
            return NodeState()
        return NodeState(int(row[0]), int(row[1]), int(row[2]), int(row[3]), q.maybe_time(row[4]))

    def set_digest_at(self, node: str, at: datetime) -> None:
        with self._guard():
            self._run(q.ENSURE_STATE, (node, stamp(at)))
            self._run("UPDATE node_state SET digest_at = ? WHERE node = ?", (stamp(at), node))

    # reading -----------------------------------------------------------------------------
    def get(self, incident_id: int) -> Incident:
        """One incident with all its references and its audit trail."""
        with self._guard():
            row = self._run(f"SELECT {q.COLUMNS} FROM incidents WHERE id = ?", (incident_id,)).fetchone()
            if row is None:
                raise IncidentNotFound(f"no incident {incident_id}")
            refs = [r[0] for r in self._run(q.REFS, (incident_id,)).fetchall()]
            trail = [q.transition_of(r) for r in self._run(q.TRAIL, (incident_id,)).fetchall()]
        return q.incident_of(row, refs, trail)

    def by_reference(self, reference: str) -> Incident:
        """The incident a block page reference belongs to."""
        with self._guard():
            row = self._run(q.BY_REF, (reference.strip().upper(),)).fetchone()
        if row is None:
            raise IncidentNotFound(f"no incident with reference {reference}")
        return self.get(int(row[0]))

    def query(self, flt: IncidentFilter) -> list[Incident]:
        """Incidents matching the filter, newest first (references and trail not loaded)."""
        where, args = q.where_of(flt)
        limit = f" LIMIT {int(flt.limit)}" if flt.limit else ""
        text = f"SELECT {q.COLUMNS} FROM incidents{where} ORDER BY last_seen DESC, id DESC{limit}"
        with self._guard():
            rows = self._run(text, tuple(args)).fetchall()
        return [q.incident_of(row, [], []) for row in rows]

    def counts_by_month(self, since: datetime, until: datetime) -> list[tuple[str, str, int, int]]:
        """``(YYYY-MM, category, incidents, events)`` by first_seen, for reports."""
        with self._guard():
            rows = self._run(q.BY_MONTH, (stamp(since), stamp(until))).fetchall()
        return [(r[0], r[1] or "", int(r[2]), int(r[3])) for r in rows]

    def counts_by_status(self, since: datetime | None = None) -> dict[str, int]:
        """Incidents per status (every status present, zeros included), last seen since ``since`` if given."""
        where, args = q.where_of(IncidentFilter(since=since))
        with self._guard():
            rows = self._run(f"SELECT status, COUNT(*) FROM incidents{where} GROUP BY status", tuple(args)).fetchall()
        counts = {status.value: 0 for status in Status}
        counts.update({str(r[0]): int(r[1]) for r in rows})
        return counts

    def time_to_triage(self, since: datetime, until: datetime) -> list[tuple[int, str, float]]:
        """``(incident id, category, seconds from first_seen to leaving 'new')``."""
        with self._guard():
            rows = self._run(q.TO_TRIAGE, (stamp(since), stamp(until))).fetchall()
        return [(int(r[0]), r[1] or "", q.seconds_between(r[2], r[3])) for r in rows]

    # lifecycle and retention -------------------------------------------------------------
    def transition(
        self,
        incident_id: int,
        target: Status,
        by: str,
        note: str,
        *,
        action: str | None = None,
        outcome: str | None = None,
    ) -> Incident:
        """Move an incident forward with an audit record; optionally set action/outcome."""
        now = stamp(datetime.now(UTC))
        with self._guard():
            conn = self._connection()
            with self.backend.transaction(conn):
                row = self._run("SELECT status FROM incidents WHERE id = ?", (incident_id,)).fetchone()
                if row is None:
                    raise IncidentNotFound(f"no incident {incident_id}")
                check_transition(Status(row[0]), target)
                self._run(q.SET_STATUS, (target.value, action, outcome, incident_id))
                self._run(q.ADD_TRANSITION, (incident_id, row[0], target.value, by, now, note))
        return self.get(incident_id)

    def purge(self, before: datetime) -> int:
        """Remove raw client data from incidents last seen before ``before``; return how many."""
        with self._guard():
            conn = self._connection()
            with self.backend.transaction(conn):
                rows = self._run(q.TO_PURGE, (stamp(before),)).fetchall()
                now = stamp(datetime.now(UTC))
                args = [(q.strip_query(r[1]), now, r[0]) for r in rows]
                conn.cursor().executemany(self.backend.sql(q.PURGE), args)
        return len(rows)


def store_for(settings: IncidentSettings, data_dir: Path) -> IncidentStore:
    """The configured store, not yet opened (:meth:`IncidentStore.open` connects and migrates)."""
    return IncidentStore(backend_for(settings.store, data_dir), window=settings.dedup_window)


def open_store(settings: IncidentSettings, data_dir: Path) -> IncidentStore:
    """Open (and migrate) the configured store; raises StoreUnavailable when it cannot be reached."""
    store = store_for(settings, data_dir)
    store.open()
    return store
