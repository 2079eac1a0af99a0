"""Fixtures for the incident tests: events, stores (real SQLite, real PostgreSQL), queues."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from filterproxy.incidents.backends import backend_for
from filterproxy.incidents.event import BlockEvent, new_reference
from filterproxy.incidents.model import IncidentFilter
from filterproxy.incidents.store import IncidentStore
from filterproxy.model import Action, Category, Reason, Verdict
from tests.support import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def make_event(
    client: str = "10.0.0.5",
    site: str = "bet.example",
    category: Category | None = Category.GAMBLING,
    *,
    at: datetime | None = None,
    protocol: str = "dns",
    host: str | None = None,
    url: str | None = None,
    search_term: str | None = None,
    user: str | None = None,
    reference: str | None = None,
) -> BlockEvent:
    verdict = Verdict(
        action=Action.BLOCK,
        reason=Reason.CATEGORY if category else Reason.LOCAL_DENY,
        group="pupils",
        host=host or f"www.{site}",
        category=category,
        source=f"ut1/{category.value}" if category else "local/deny",
        rule=site,
        site=site,
    )
    return BlockEvent(
        at=at or datetime.now(UTC),
        protocol=protocol,  # type: ignore[arg-type]
        client=client,
        verdict=verdict,
        reference=reference or new_reference(),
        url=url,
        method="GET" if protocol != "dns" else None,
        qtype="A" if protocol == "dns" else None,
        search_term=search_term,
        user_agent="Mozilla/5.0" if protocol != "dns" else None,
        user=user,
    )


def open_store(url: str, data_dir: Path, window: float = 600.0) -> IncidentStore:
    """An opened (migrated) store: ``sqlite:PATH`` (relative to data_dir) or a PostgreSQL URL."""
    store = IncidentStore(backend_for(url, data_dir), window=window)
    store.open()
    return store


def all_refs(store: IncidentStore) -> set[str]:
    """Every block page reference in the store."""
    refs: set[str] = set()
    for incident in store.query(IncidentFilter()):
        refs.update(store.get(incident.id).references)
    return refs


@dataclass
class Postgres:
    """A real PostgreSQL server in a temp dir, owned by the postgres user, on a loopback port."""

    root: Path
    port: int
    fsync: bool = False  # off for tests; the benchmark turns it on
    proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def create(cls, root: Path, *, fsync: bool = False) -> Postgres:
        """initdb a cluster in ``root`` (made over to the postgres user) and start it."""
        shutil.chown(root, "postgres", "postgres")
        os.chmod(root, 0o700)
        initdb = [str(PG_BIN / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "postgres"]
        if not fsync:
            initdb.append("--no-sync")
        subprocess.run(["runuser", "-u", "postgres", "--", *initdb], check=True, stdout=subprocess.DEVNULL)
        server = cls(root, free_port(), fsync)
        server.start()
        return server

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        cmd = [
            str(PG_BIN / "postgres"),
            "-D",
            str(self.root / "data"),
            "-p",
            str(self.port),
            "-h",
            "127.0.0.1",
            "-k",
            str(self.root),
            "-F",
            "-c",
            f"fsync={'on' if self.fsync else 'off'}",
        ]
        with open(self.root / "log", "ab") as log:  # Popen keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                ["runuser", "-u", "postgres", "--", *cmd], stdout=subprocess.DEVNULL, stderr=log
            )
        self._wait_ready()

    def stop(self) -> None:
        """Fast shutdown (open client connections are cut, as at the end of a session)."""
        self._pg_ctl("fast")

    def kill(self) -> None:
        """Immediate shutdown: the postmaster gets SIGQUIT, as in a crash."""
        self._pg_ctl("immediate")

    def _pg_ctl(self, mode: str) -> None:
        pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "stop", "-m", mode]
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *pg_ctl],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if self.proc is not None:
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError((self.root / "log").read_text()) from None
                time.sleep(0.1)

    def create_db(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG_BIN} (scripts/bootstrap.sh test installs them)")
    root = Path(tempfile.mkdtemp(prefix="fp-pg-"))
    server = Postgres.create(root)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store of each kind: sqlite:PATH or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'incidents.db'}"
    server: Postgres = request.getfixturevalue("postgres")
    return server.create_db()
