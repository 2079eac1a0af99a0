"""The live address -> person map RADIUS accounting keeps: expiry, a size bound, persistence.

Written by the accounting listener and read by the DNS and HTTP paths on the same loop (the
proxy's password checks run in threads but never touch this map). Every mutation is one or
two dict operations; eviction takes the oldest entry (dicts keep insertion order, and a
refreshed session is re-inserted), so every operation is O(1). The map is saved as JSON with
an atomic replace (one JSON line per session, so the thread that writes it yields the GIL to the
loop between lines), at most every 30 seconds, and loaded at start without its expired entries.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from filterproxy.files import write_atomic
from filterproxy.identity.model import Identity, IdentitySource
from filterproxy.model import IPAddress

log = logging.getLogger(__name__)
FORMAT = 1


class Session(NamedTuple):
    identity: Identity
    expires: float  # epoch seconds
    nas: str  # the NAS address that reported it
    session_id: str | None


class SessionMap:
    """Address -> :class:`Session`, bounded; listeners hear every address whose person changed."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.clock = clock
        self._sessions: dict[IPAddress, Session] = {}
        self.listeners: list[Callable[[IPAddress], None]] = []
        self.dirty = False

    def __len__(self) -> int:
        return len(self._sessions)

    def identity(self, address: IPAddress) -> Identity | None:
        """The person behind ``address`` now, if a live session names one."""
        session = self._sessions.get(address)
        if session is None:
            return None
        if session.expires <= self.clock():
            self._drop(address)
            return None
        return session.identity

    def by_user(self, user: str) -> list[tuple[IPAddress, Session]]:
        """Live sessions of one person (for `check --user` and the CLI); O(n), never on a hot path."""
        now, name = self.clock(), user.lower()
        return [(a, s) for a, s in self._sessions.items() if s.identity.user.lower() == name and s.expires > now]

    def start(self, address: IPAddress, session: Session) -> None:
        """Start or refresh the session of ``address`` (Accounting-Start or Interim-Update)."""
        old = self._sessions.pop(address, None)
        if old is None and len(self._sessions) >= self.limit:
            self._drop(next(iter(self._sessions)))
        self._sessions[address] = session
        self.dirty = True
        if old is None or old.identity[:2] != session.identity[:2]:
            self._changed(address)

    def stop(self, address: IPAddress) -> bool:
        """End the session of ``address`` (Accounting-Stop); whether there was one."""
        return self._drop(address)

    def stop_nas(self, nas: str) -> int:
        """End every session a NAS reported (its Accounting-On/Off: it restarted)."""
        gone = [a for a, s in self._sessions.items() if s.nas == nas]
        for address in gone:
            self._drop(address)
        return len(gone)

    def sweep(self) -> int:
        """Drop expired sessions; how many."""
        now = self.clock()
        gone = [a for a, s in self._sessions.items() if s.expires <= now]
        for address in gone:
            self._drop(address)
        return len(gone)

    def _drop(self, address: IPAddress) -> bool:
        if self._sessions.pop(address, None) is None:
            return False
        self.dirty = True
        self._changed(address)
        return True

    def _changed(self, address: IPAddress) -> None:
        for listener in self.listeners:
            listener(address)

    # persistence

    def snapshot(self) -> dict[IPAddress, Session]:
        """The sessions now (a C-speed copy, taken on the loop; :func:`save` writes it off the loop)."""
        return self._sessions.copy()

    def save(self, path: Path) -> None:
        """Write the live sessions atomically (for tools; the listener saves a snapshot from a thread)."""
        save(path, self.snapshot())

    def load(self, path: Path) -> int:
        """Read saved sessions, skipping expired and malformed ones; how many were kept."""
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("identity: ignoring unreadable sessions file %s: %s", path, exc)
            return 0
        now = self.clock()
        for line in lines[1:]:  # the first line is the header
            try:
                address, session = _unrow(json.loads(line))
            except (KeyError, TypeError, ValueError):
                continue
            if session.expires > now and len(self._sessions) < self.limit:
                self._sessions[address] = session
        self.dirty = False
        return len(self._sessions)


def save(path: Path, sessions: dict[IPAddress, Session]) -> None:
    """Write a snapshot atomically: a header line, then one JSON object per session."""
    header = json.dumps({"format": FORMAT, "sessions": len(sessions)}).encode() + b"\n"
    lines = (json.dumps(_row(a, s), separators=(",", ":")).encode() + b"\n" for a, s in sessions.items())
    write_atomic(path, _chunks(header, lines))


def _chunks(header: bytes, lines: Iterator[bytes], size: int = 256) -> Iterator[bytes]:
    yield header
    batch: list[bytes] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= size:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)


def _row(address: IPAddress, session: Session) -> dict[str, Any]:
    who = session.identity
    return {"address": str(address), "user": who.user, "directory": list(who.directory), "since": who.since,
            "expires": session.expires, "nas": session.nas, "session_id": session.session_id}


def _unrow(row: dict[str, Any]) -> tuple[IPAddress, Session]:
    who = Identity(str(row["user"]), tuple(str(d) for d in row["directory"]), IdentitySource.RADIUS,
                   float(row["since"]))
    session_id = row.get("session_id")
    return ipaddress.ip_address(row["address"]), Session(who, float(row["expires"]), str(row["nas"]),
                                                         str(session_id) if session_id is not None else None)
