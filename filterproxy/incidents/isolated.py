"""The incident store in its own process, so that no failure of the database can take the service down.

SQLite maps its WAL index (the ``-shm`` file) into memory; when a page of that mapping can no
longer be written (the file made immutable, a full or vanished filesystem) the kernel answers
with SIGBUS, which kills the process outright: no Python handler runs. ``locking_mode=EXCLUSIVE``
would keep the index in heap memory, but it also locks every reader out of the database (the
``incidents`` commands, the console, the status gauge), so instead the connection lives in a
child process: :class:`IsolatedStore` forwards each call over a pipe, and a child that dies (any
signal) or hangs becomes :class:`StoreUnavailable` for the caller (the queue spools, and the next
:meth:`open` starts a fresh child). The same holds for PostgreSQL, whose driver then runs there too.

The child ignores SIGINT/SIGTERM (the parent drains through it on shutdown) and exits when the
pipe closes, so it never outlives the service, even after a SIGKILL.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import signal
import threading
import weakref
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from filterproxy.errors import IncidentError, StoreUnavailable
from filterproxy.incidents.backends import backend_for
from filterproxy.incidents.fold import Folded
from filterproxy.incidents.model import Incident, IncidentFilter, Status
from filterproxy.incidents.settings import IncidentSettings
from filterproxy.incidents.store import IncidentStore, NodeState, Written

log = logging.getLogger(__name__)
CALL_TIMEOUT = 60.0  # seconds a store call may take before the child is killed (a hung disk or server)
_START_TIMEOUT = 30.0
_OPEN: weakref.WeakSet[IsolatedStore] = weakref.WeakSet()


@atexit.register  # registered after multiprocessing's own hook, so it runs first
def _close_pipes() -> None:
    """At exit, multiprocessing joins its children; a child exits when its pipe closes, so close them first
    (a store nobody closed, such as the status gauge's, would otherwise hang the exit)."""
    for store in list(_OPEN):
        pipe = store._pipe
        if pipe is not None:
            pipe.close()


def _child(conn: Connection, store_url: str, data_dir: str, window: float) -> None:
    """The child's loop: one call at a time, its result or its exception back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    store = IncidentStore(backend_for(store_url, Path(data_dir)), window=window)
    conn.send(("ready", None))
    while True:
        try:
            name, args, kwargs = conn.recv()
        except (EOFError, OSError):  # the service is gone
            store.close()
            return
        try:
            result: tuple[str, Any] = ("ok", getattr(store, name)(*args, **kwargs))
        except IncidentError as exc:
            result = ("err", exc)
        except Exception as exc:  # a driver error the backend did not translate: still the store's
            result = ("err", IncidentError(f"{type(exc).__name__}: {exc}"))
        conn.send(result)


class IsolatedStore(IncidentStore):
    """An :class:`IncidentStore` whose connection lives in a child process (same API, same errors)."""

    def __init__(self, settings: IncidentSettings, data_dir: Path, *, timeout: float = CALL_TIMEOUT) -> None:
        super().__init__(backend_for(settings.store, data_dir), window=settings.dedup_window)
        self._args = (settings.store, str(data_dir), settings.dedup_window)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._pipe: Connection | None = None  # to the child (the database connection lives there)

    @property
    def pid(self) -> int | None:
        """The child's process id while one runs (tests kill it)."""
        return self._proc.pid if self._proc is not None else None

    def _spawn(self) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a threaded process
        parent, child = context.Pipe()
        proc = context.Process(target=_child, args=(child, *self._args), name="incident-store", daemon=True)
        proc.start()
        child.close()
        self._proc, self._pipe = proc, parent
        _OPEN.add(self)
        if not parent.poll(_START_TIMEOUT):
            self._kill("did not start")
        try:
            parent.recv()
        except (EOFError, OSError) as exc:
            self._kill("did not start")
            raise StoreUnavailable(f"incident store process for {self.backend.describe()} did not start") from exc

    def _kill(self, why: str) -> None:
        proc, conn = self._proc, self._pipe
        self._proc = self._pipe = None
        if conn is not None:
            conn.close()
        if proc is None:
            return
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        log.warning("incident store process %s %s (exit code %s)", proc.pid, why, proc.exitcode)
        raise StoreUnavailable(f"incident store process for {self.backend.describe()} {why} (exit {proc.exitcode})")

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._pipe is None:
                self._spawn()
            conn = self._pipe
            assert conn is not None
            try:
                conn.send((name, args, kwargs))
                if not conn.poll(self.timeout):
                    self._kill(f"hung in {name}() for {self.timeout:.0f} s")
                status, value = conn.recv()
            except (EOFError, OSError, BrokenPipeError):
                self._kill(f"died in {name}()")
                raise AssertionError("unreachable") from None
        if status == "err":
            raise value
        return value

    # the IncidentStore API, forwarded -------------------------------------------------------
    def open(self) -> None:
        self._call("open")

    def close(self) -> None:
        with self._lock:
            if self._pipe is not None:
                self._pipe.close()  # the child closes its connection at EOF and exits
            if self._proc is not None:
                self._proc.join(10)
                if self._proc.is_alive():
                    self._proc.kill()
                    self._proc.join(5)
            self._proc = self._pipe = None

    def write(self, groups: list[Folded], node: str, submitted: int, stored: int) -> Written:
        result: Written = self._call("write", groups, node, submitted, stored)
        return result

    def record_loss(self, node: str, lost: int, dropped: int = 0) -> None:
        self._call("record_loss", node, lost, dropped)

    def state(self, node: str) -> NodeState:
        result: NodeState = self._call("state", node)
        return result

    def set_digest_at(self, node: str, at: Any) -> None:
        self._call("set_digest_at", node, at)

    def get(self, incident_id: int) -> Incident:
        result: Incident = self._call("get", incident_id)
        return result

    def by_reference(self, reference: str) -> Incident:
        result: Incident = self._call("by_reference", reference)
        return result

    def query(self, flt: IncidentFilter) -> list[Incident]:
        result: list[Incident] = self._call("query", flt)
        return result

    def counts_by_month(self, since: Any, until: Any) -> list[tuple[str, str, int, int]]:
        result: list[tuple[str, str, int, int]] = self._call("counts_by_month", since, until)
        return result

    def counts_by_status(self, since: Any = None) -> dict[str, int]:
        result: dict[str, int] = self._call("counts_by_status", since)
        return result

    def time_to_triage(self, since: Any, until: Any) -> list[tuple[int, str, float]]:
        result: list[tuple[int, str, float]] = self._call("time_to_triage", since, until)
        return result

    def transition(self, incident_id: int, target: Status, by: str, note: str, *, action: str | None = None,
                   outcome: str | None = None) -> Incident:  # fmt: skip
        result: Incident = self._call("transition", incident_id, target, by, note, action=action, outcome=outcome)
        return result

    def purge(self, before: Any) -> int:
        result: int = self._call("purge", before)
        return result


def service_store(settings: IncidentSettings, data_dir: Path) -> IncidentStore:
    """The store a running service uses: in a child process unless ``incidents.isolate`` is off."""
    if settings.isolate:
        return IsolatedStore(settings, data_dir)
    return IncidentStore(backend_for(settings.store, data_dir), window=settings.dedup_window)
