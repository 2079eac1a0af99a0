"""`filterproxy serve` as a subprocess under steady blocked-DNS load, for the store failure tests.

:class:`Served` starts the real service (resolver, proxy, metrics, incident queue) on loopback
ports with one gambling list, and :class:`Load` sends it blocked queries (a fresh name each, so
no cache answers without the chain) from two threads, counting what was sent and what was answered
with the block answer. The tests break the store while the load runs and count events afterwards.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import dns.message
import dns.query
import httpx

from tests.support import free_port, free_udp_tcp_port

REPO = Path(__file__).resolve().parents[2]
RUNNING: list[Served] = []  # killed by the tests' teardown if a test failed half-way


class Served:
    """One `filterproxy serve` process and its configuration."""

    def __init__(self, tmp: Path, store: str, *, spool: Path | None = None, upstream: int = 9) -> None:
        self.tmp = tmp
        self.ports = {"dns": free_udp_tcp_port(), "proxy": free_port(), "metrics": free_port()}
        (tmp / "gambling.txt").write_text("bet.example\n")
        spool_line = f"\n  spool_file: {spool}" if spool is not None else ""
        self.config = tmp / "filterproxy.yaml"
        self.config.write_text(
            f"""
data_dir: data
lists:
  sources:
    - {{id: t/gambling, category: gambling, path: gambling.txt}}
dns:
  listen: 127.0.0.1:{self.ports['dns']}
  upstreams: ["127.0.0.1:{upstream}"]
proxy:
  listen: 127.0.0.1:{self.ports['proxy']}
metrics:
  listen: 127.0.0.1:{self.ports['metrics']}
incidents:
  store: "{store}"
  node: served
  dedup_window: 0
  retry_interval: 0.3{spool_line}
"""
        )
        self.proc: subprocess.Popen[str] | None = None
        self.output = ""
        self.probes = 0  # readiness queries sent (each is a blocked event if it arrived)

    @property
    def data_dir(self) -> Path:
        return self.tmp / "data"

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.log = (self.tmp / "serve.log").open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "filterproxy.cli", "--config", str(self.config), "serve"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        RUNNING.append(self)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.read_log()
            try:
                if "filterproxy_incidents_queue_depth" in self.metrics_text():
                    self.probes += 1
                    self.query("ready.bet.example")
                    return
            except (httpx.HTTPError, OSError, dns.exception.DNSException):
                time.sleep(0.2)
        raise AssertionError(f"serve did not start: {self.read_log()}")

    def kill(self) -> None:
        """Teardown: a service a failed test left running goes (its store child follows at pipe EOF)."""
        if self.alive():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(10)

    def read_log(self) -> str:
        return (self.tmp / "serve.log").read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def query(self, name: str, timeout: float = 3.0) -> dns.message.Message:
        return dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=self.ports["dns"], timeout=timeout)

    def metrics_text(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.ports['metrics']}/metrics", timeout=5).text

    def metric(self, name: str) -> float:
        for line in self.metrics_text().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"no metric {name}")

    def proxy_answers(self) -> int:
        with httpx.Client(proxy=f"http://127.0.0.1:{self.ports['proxy']}", timeout=10) as client:
            return client.get("http://www.bet.example/").status_code

    def wait_spool_empty(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.metric("filterproxy_incidents_spool_events") == 0:
                return
            time.sleep(0.2)
        raise AssertionError(f"the spool was not replayed: {self.read_log()[-3000:]}")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
        self.log.close()
        return code


class Load:
    """Blocked queries from two threads, each with a fresh name; counts sent, answered and failed."""

    def __init__(self, served: Served, rate: int = 400) -> None:
        self.served, self.rate = served, rate
        self.sent = self.answered = self.failed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(2)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(15)

    def _run(self, worker: int) -> None:
        n, pause = 0, 2.0 / self.rate
        while not self._stop.is_set():
            n += 1
            with self._lock:
                self.sent += 1
            try:
                answer = self.served.query(f"w{worker}-{n}.bet.example")
                ok = [r.to_text() for rr in answer.answer for r in rr] == ["127.0.0.1"]
            except (OSError, dns.exception.DNSException):
                ok = False
            with self._lock:
                if ok:
                    self.answered += 1
                else:
                    self.failed += 1
            time.sleep(pause)

    def run_for(self, seconds: float) -> None:
        time.sleep(seconds)


def stored_events(path: Path) -> int:
    """Events the SQLite store holds (each incident counts its folded events)."""
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT COALESCE(SUM(count), 0) FROM incidents WHERE protocol = 'dns'").fetchone()
    return int(row[0])


def spooled_events(path: Path) -> int:
    """Events waiting in a spool file (replayed at the next start: kept, not lost)."""
    from filterproxy.incidents.spool import Spool

    return Spool(path).scan().count


def node_losses(path: Path) -> tuple[int, int]:
    """``(lost_total, dropped_total)`` the store recorded for the served node."""
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT lost_total, dropped_total FROM node_state WHERE node = 'served'").fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)
