"""A default install fetches the recommended lists at its first start, from a local mirror of the shared lists.

The shipped config/ and blocklists/ are copied as a fresh clone has them; the only list setting is
``FILTERPROXY__LISTS__MIRROR`` (plus loopback ports, a local upstream and a temp data dir). No file
is edited. With the mirror down the starter lists serve and every source's state shows the error.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dns.message
import dns.query
import httpx
import pytest

from filterproxy.lists.formats import Entry, parse_source
from filterproxy.lists.settings import SourceSettings
from filterproxy.lists.sources import load_sources
from filterproxy.model import Category
from tests import shared_lists
from tests.conftest import OFFLINE_ENV
from tests.lists.mirror import body_for, serve_mirror
from tests.support import free_port, wait_listening
from tests.test_serve import upstream

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not shared_lists.available(), reason="../shared/data/blocklists not present")]
REPO = Path(__file__).resolve().parents[2]
__all__ = ["upstream"]  # the local resolver fixture, shared with test_serve
POLICY = [c for c in Category if c not in (Category.ILLEGAL, Category.SELFHARM, Category.EXTREMISM)]


def fresh_install(root: Path) -> Path:
    """config/ and blocklists/ as a fresh clone holds them (nothing downloaded); the config's path."""
    shutil.copytree(REPO / "config", root / "config")
    shutil.copytree(REPO / "blocklists", root / "blocklists",
                    ignore=lambda d, names: [n for n in names if Path(d).name == "downloads" and n != ".gitignore"])
    return root / "config" / "filterproxy.yaml"


@dataclass
class Running:
    config: Path
    env: dict[str, str]
    ports: dict[str, int]
    started: float

    def resolves_to_block(self, name: str) -> bool:
        reply = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=self.ports["dns"], timeout=3)
        return [r.to_text() for rr in reply.answer for r in rr] == ["127.0.0.1"]

    def cli(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "filterproxy.cli", "--config", str(self.config), *args],
                              capture_output=True, text=True, timeout=120, env=self.env, check=True)
        return done.stdout

    def stats(self) -> dict[str, dict[str, object]]:
        return {s["source"]: s for s in json.loads(self.cli("lists", "stats", "--json"))["sources"]}

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.ports['metrics']}/metrics", timeout=5).text


@contextmanager
def serve(config: Path, data: Path, upstream: int, mirror: str, **extra: str) -> Iterator[Running]:
    ports = {"dns": free_port(), "proxy": free_port(), "metrics": free_port()}
    inherited = {k: v for k, v in os.environ.items() if k != OFFLINE_ENV and not k.lower().endswith("_proxy")}
    env = {**inherited, "PYTHONUNBUFFERED": "1", "FILTERPROXY_DATA_DIR": str(data),
           "FILTERPROXY__LISTS__MIRROR": mirror,
           "FILTERPROXY__CATEGORISE__ENABLED": "false",  # what the lists block, not what the model adds
           "FILTERPROXY__DNS__LISTEN": f"127.0.0.1:{ports['dns']}",
           "FILTERPROXY__DNS__UPSTREAMS": f"[127.0.0.1:{upstream}]",
           "FILTERPROXY__PROXY__LISTEN": f"127.0.0.1:{ports['proxy']}",
           "FILTERPROXY__METRICS__LISTEN": f"127.0.0.1:{ports['metrics']}", **extra}
    started = time.monotonic()
    log = data.parent / f"serve-{ports['dns']}.log"  # a file, not a pipe: a full pipe would stall the service
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "filterproxy.cli", "--config", str(config), "serve"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_listening(ports["dns"], timeout=60)
            wait_listening(ports["metrics"], timeout=30)
            yield Running(config, env, ports, started)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, log.read_text()[-3000:]


def recommended(config: Path) -> list[SourceSettings]:
    return [s for s in load_sources(config.parent.parent / "blocklists" / "sources.yaml") if s.enabled and s.url]


def starter_names(config: Path) -> set[str]:
    names: set[str] = set()
    for path in (config.parent.parent / "blocklists" / "starter").glob("*.txt"):
        names |= {line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()}
    return names


def listed_names(sources: list[SourceSettings], avoid: set[str], scratch: Path, per_source: int = 2
                 ) -> dict[str, tuple[Category, str]]:
    """A few names each recommended source lists (and no starter list does): name -> (category, source)."""
    out: dict[str, tuple[Category, str]] = {}
    for source in sources:
        body = body_for(source.id)
        assert body is not None, f"{source.id}: the shared data has no copy to mirror"
        copy = scratch / source.id.replace("/", "_") / source.path.name
        copy.parent.mkdir(parents=True)
        copy.write_bytes(body)
        found = 0
        for item in parse_source(source.model_copy(update={"path": copy})):
            if isinstance(item, Entry) and item.kind == "domain" and item.value not in avoid | set(out):
                out[item.value] = (source.category, source.id)
                found += 1
                if found == per_source:
                    break
    return out


def wait_until(check: object, timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return time.monotonic()
        time.sleep(1.0)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_default_install_blocks_every_category_after_the_first_fetch(
        tmp_path: Path, upstream: int, capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    config = fresh_install(tmp_path / "install")
    sources = recommended(config)
    names = listed_names(sources, starter_names(config), tmp_path / "scratch")
    assert {category for category, _ in names.values()} == set(POLICY)
    with serve_mirror() as mirror, serve(config, tmp_path / "data", upstream, mirror.url) as running:
        live = wait_until(lambda: all(running.resolves_to_block(n) for n in names), 600, "the fetched lists")
        seconds = live - running.started
        stats = running.stats()
        metrics = running.metrics()
    for source in sources:
        download = stats[source.id]["download"]
        assert isinstance(download, dict) and download["status"] == "ok", (source.id, download)
        assert download["last_error"] is None and isinstance(download["entries"], int) and download["entries"] > 0
        assert stats[source.id]["entries"] == download["entries"], source.id
        assert f'filterproxy_lists_source_state{{source="{source.id}",state="ok"}} 1.0' in metrics
    assert all(f"/{s.id}/" in " ".join(mirror.requests) for s in sources), "every source came from the mirror"
    assert not any(name in metrics for name in names), "no domain as a metric label"
    incidents = json.loads(running.cli("incidents", "list", "--json", "--limit", "1000"))
    blocked_as = {(i["host"], i["category"]) for i in incidents}
    for category in POLICY:  # some name of each category's sources was blocked as that category
        assert any((n, category.value) in blocked_as for n, (c, _) in names.items() if c is category), category
    per_category: dict[str, int] = {}
    for row in (r for r in stats.values() if r["enabled"]):  # disabled sources are listed too, without entries
        per_category[str(row["category"])] = per_category.get(str(row["category"]), 0) + int(row["entries"])  # type: ignore[call-overload]
    with capsys.disabled():
        print(f"\nfirst fetch from the mirror: fetched lists live {seconds:.1f}s after start; "
              f"entries per category: {json.dumps(per_category, sort_keys=True)}")

    # a restart with the mirror down and a short interval: each source keeps its last good copy,
    # the state says why
    dead = f"http://127.0.0.1:{free_port()}/"
    with serve(config, tmp_path / "data", upstream, dead, FILTERPROXY__LISTS__UPDATE_INTERVAL_HOURS="0.005") as again:
        wait_until(lambda: all_failed(again, sources), 300, "every download to fail")
        assert all(again.resolves_to_block(n) for n in names), "the last good copies keep serving"
        row = again.stats()[sources[0].id]["download"]
        assert isinstance(row, dict) and "cannot download" in str(row["last_error"]) and row["age_hours"] is not None


def all_failed(running: Running, sources: list[SourceSettings]) -> bool:
    stats = running.stats()
    return all(failed_once(stats[s.id]) for s in sources)


def failed_once(row: dict[str, object]) -> bool:
    """The source's last attempt failed (it may be trying again right now)."""
    download = row["download"]
    return isinstance(download, dict) and download["status"] in ("failed", "fetching") and bool(download["last_error"])


def test_with_the_mirror_down_the_starter_lists_serve_and_the_state_shows_the_error(
        tmp_path: Path, upstream: int) -> None:  # fmt: skip
    config = fresh_install(tmp_path / "install")
    sources = recommended(config)
    names = listed_names(sources[:6], starter_names(config), tmp_path / "scratch", per_source=1)
    dead = f"http://127.0.0.1:{free_port()}/"
    with serve(config, tmp_path / "data", upstream, dead) as running:
        wait_until(lambda: all_failed(running, sources), 300, "every download to fail")
        assert running.resolves_to_block("pornhub.com") and running.resolves_to_block("www.bet365.com")
        assert not any(running.resolves_to_block(n) for n in names), "nothing was fetched"
        stats = running.stats()
        metrics = running.metrics()
    for source in sources:
        download = stats[source.id]["download"]
        assert isinstance(download, dict) and download["status"] == "failed" and download["checked_at"] is None
        assert f"127.0.0.1:{dead.rsplit(':', 1)[1].strip('/')}/{source.id}/" in str(download["last_error"])
        assert f'filterproxy_lists_source_state{{source="{source.id}",state="failed"}} 1.0' in metrics
        assert f'filterproxy_lists_source_state{{source="{source.id}",state="ok"}} 0.0' in metrics
        assert f'filterproxy_lists_source_last_failure_seconds{{source="{source.id}"}} ' in metrics


def test_offline_fetches_nothing_and_says_so(tmp_path: Path, upstream: int) -> None:
    config = fresh_install(tmp_path / "install")
    with serve_mirror() as mirror:  # any request would land in mirror.requests
        with serve(config, tmp_path / "data", upstream, mirror.url, FILTERPROXY__LISTS__OFFLINE="true") as running:
            assert running.resolves_to_block("pornhub.com")
            time.sleep(3)  # the first fetch would have started by now
            stats = running.stats()
            done = subprocess.run([sys.executable, "-m", "filterproxy.cli", "--config", str(config), "lists",
                                   "update"], capture_output=True, text=True, env=running.env, timeout=60)
        assert mirror.requests == []
    assert done.returncode == 1 and "lists.offline" in done.stderr
    downloads = [row["download"] for row in stats.values() if row["download"]]
    assert downloads and all(d["status"] == "never" for d in downloads)  # type: ignore[index]
