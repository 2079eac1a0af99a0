"""Unblock requests: a pupil or teacher asks from the block page for a site to be reviewed.

Requests live in ``<data_dir>/console/requests.db`` (SQLite, shared by the console and the CLI).
A request carries the block reference, the site, category, group and who (device/user) as the
incident store recorded them, plus the requester's reason. It is decided once: approved
(permanently, for some hours, or for one group) or declined with a note.
"""

from __future__ import annotations

import contextlib
import enum
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filterproxy.errors import UnblockRequestError

DB_FILE = Path("console") / "requests.db"
MAX_REASON = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reference TEXT NOT NULL,
    site TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    grp TEXT NOT NULL DEFAULT '',
    who TEXT NOT NULL DEFAULT '',
    client TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    created TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    scope TEXT,
    scope_group TEXT,
    expires_at TEXT,
    added INTEGER NOT NULL DEFAULT 0,
    note TEXT
);
CREATE INDEX IF NOT EXISTS requests_reference ON requests (reference);
CREATE INDEX IF NOT EXISTS requests_status ON requests (status);
"""
_COLUMNS = ("id, reference, site, url, category, grp, who, client, reason, status, created, decided_at, "
            "decided_by, scope, scope_group, expires_at, added, note")


class RequestStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    EXPIRED = "expired"  # a temporary approval that has run out


class Scope(enum.StrEnum):
    PERMANENT = "permanent"
    HOURS = "hours"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class UnblockRequest:
    id: int
    reference: str
    site: str
    url: str
    category: str
    group: str
    who: str
    client: str
    reason: str
    status: RequestStatus
    created: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    scope: Scope | None = None
    scope_group: str | None = None
    expires_at: datetime | None = None
    added: bool = False  # whether approving changed the allow list (expiry only undoes its own change)
    note: str | None = None

    def to_json(self, *, public: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "reference": self.reference, "site": self.site, "category": self.category,
            "status": self.status.value, "created": self.created.isoformat(timespec="seconds"),
            "decided_at": _iso(self.decided_at), "scope": self.scope.value if self.scope else None,
            "scope_group": self.scope_group, "expires_at": _iso(self.expires_at), "note": self.note,
        }
        if not public:
            data.update(url=self.url, group=self.group, who=self.who, client=self.client, reason=self.reason,
                        decided_by=self.decided_by)
        return data


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _of(row: tuple[Any, ...]) -> UnblockRequest:
    created = _time(row[10])
    assert created is not None
    return UnblockRequest(
        int(row[0]), row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], RequestStatus(row[9]),
        created, _time(row[11]), row[12], Scope(row[13]) if row[13] else None, row[14], _time(row[15]),
        bool(row[16]), row[17],
    )


class RequestStore:
    """The unblock requests; one short-lived SQLite connection per call (safe from any thread)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DB_FILE

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.executescript(_SCHEMA)
            with conn:
                yield conn
        finally:
            conn.close()

    def create(self, *, reference: str, site: str, url: str, category: str, group: str, who: str,
               client: str, reason: str) -> UnblockRequest:
        reason = reason.strip()
        if not reason:
            raise UnblockRequestError("please say why you need this site")
        if len(reason) > MAX_REASON:
            raise UnblockRequestError(f"the reason is too long (at most {MAX_REASON} characters)")
        reference = reference.strip().upper()
        with self._db() as db:
            open_one = db.execute("SELECT id FROM requests WHERE reference = ? AND status = 'pending'",
                                  (reference,)).fetchone()
            if open_one is not None:
                raise UnblockRequestError(f"a request for {reference} is already waiting for a decision")
            now = datetime.now(UTC).isoformat(timespec="seconds")
            cur = db.execute(
                "INSERT INTO requests (reference, site, url, category, grp, who, client, reason, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (reference, site, url, category, group, who, client, reason, now),
            )
            new_id = int(cur.lastrowid or 0)
        return self.get(new_id)

    def get(self, request_id: int) -> UnblockRequest:
        with self._db() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM requests WHERE id = ?", (request_id,)).fetchone()
        if row is None:
            raise UnblockRequestError(f"no unblock request {request_id}")
        return _of(row)

    def by_reference(self, reference: str) -> list[UnblockRequest]:
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM requests WHERE reference = ? ORDER BY id DESC",
                              (reference.strip().upper(),)).fetchall()
        return [_of(r) for r in rows]

    def all(self, status: RequestStatus | None = None, limit: int = 500) -> list[UnblockRequest]:
        where, args = (" WHERE status = ?", (status.value,)) if status else ("", ())
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM requests{where} ORDER BY id DESC LIMIT {int(limit)}",
                              args).fetchall()
        return [_of(r) for r in rows]

    def count_pending(self) -> int:
        with self._db() as db:
            return int(db.execute("SELECT COUNT(*) FROM requests WHERE status = 'pending'").fetchone()[0])

    def decide(self, request_id: int, status: RequestStatus, by: str, note: str, *, scope: Scope | None = None,
               scope_group: str | None = None, expires_at: datetime | None = None, added: bool = False) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db() as db:
            cur = db.execute(
                "UPDATE requests SET status = ?, decided_at = ?, decided_by = ?, note = ?, scope = ?, "
                "scope_group = ?, expires_at = ?, added = ? WHERE id = ? AND status = 'pending'",
                (status.value, now, by, note, scope.value if scope else None, scope_group, _iso(expires_at),
                 int(added), request_id),
            )
            if cur.rowcount != 1:
                raise UnblockRequestError(f"unblock request {request_id} is not waiting for a decision")

    def due_to_expire(self, now: datetime) -> list[UnblockRequest]:
        with self._db() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM requests WHERE status = 'approved' AND expires_at IS NOT NULL "
                              "AND expires_at <= ?", (now.isoformat(timespec="seconds"),)).fetchall()
        return [_of(r) for r in rows]

    def mark_expired(self, request_id: int) -> None:
        with self._db() as db:
            db.execute("UPDATE requests SET status = 'expired' WHERE id = ? AND status = 'approved'", (request_id,))
