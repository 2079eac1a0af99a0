"""Downloads as the service and `lists update` run them: state per source, the mirror, offline, progress,
the first-start fetch and the metrics; against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from filterproxy.cli import main
from filterproxy.config.loader import load_config
from filterproxy.errors import ConfigError
from filterproxy.lists.loader import load_engine, resolve_sources
from filterproxy.lists.progress import TerminalProgress, for_terminal
from filterproxy.lists.reload import ListManager
from filterproxy.lists.settings import SourceSettings
from filterproxy.lists.state import LOG_FILE, SourceState, due, read_log, read_states, state_of
from filterproxy.lists.update import download_url, update_sources
from filterproxy.metrics.list_state import register_list_state_metrics
from filterproxy.model import Action, Category, Query
from tests.lists.test_update import GOOD, Origin, Route, origin

__all__ = ["origin"]  # the local list server fixture, shared with test_update
NOW = 1_800_000_000.0


def remote(tmp_path: Path, url: str, sid: str = "test/remote", name: str = "list.txt") -> SourceSettings:
    return SourceSettings(id=sid, category=Category.GAMBLING, path=tmp_path / "dl" / name, url=url)


# --- state ------------------------------------------------------------------------------------------


def test_state_of_reads_old_and_new_records() -> None:
    assert state_of("a", None) == SourceState("a", "never")
    legacy = state_of("a", {"fetched_at": "2027-01-15T08:00:00+00:00", "entries": 7})
    assert (legacy.status, legacy.entries) == ("ok", 7)
    assert legacy.checked_at == datetime(2027, 1, 15, 8, tzinfo=UTC).timestamp()
    failed = state_of("a", {"status": "failed", "last_error": "HTTP 503", "attempt_at": NOW, "checked_at": NOW - 10})
    assert (failed.status, failed.last_error, failed.age(NOW)) == ("failed", "HTTP 503", 10.0)
    assert state_of("a", {"status": "bogus"}).status == "never"
    assert state_of("a", {"status": "fetching", "attempt_at": NOW - 60}, now=NOW).status == "fetching"
    stopped = state_of("a", {"status": "fetching", "attempt_at": NOW - 7200}, now=NOW)
    assert stopped.status == "failed" and "interrupted" in str(stopped.last_error)


def test_due_fetches_the_never_fetched_at_once_and_the_rest_on_their_interval(tmp_path: Path) -> None:
    new, fresh, stale, failed, gone = (remote(tmp_path, "http://127.0.0.1:9/x", f"t/{n}", n)
                                       for n in ("new", "fresh", "stale", "failed", "gone"))
    for held in (fresh, stale, failed):
        held.path.parent.mkdir(exist_ok=True)
        held.path.write_text("a.example\n")
    states = {
        "t/fresh": SourceState("t/fresh", "ok", checked_at=NOW - 100),
        "t/stale": SourceState("t/stale", "ok", checked_at=NOW - 5000),
        "t/failed": SourceState("t/failed", "failed", checked_at=NOW - 100, attempt_at=NOW - 50),
        "t/gone": SourceState("t/gone", "ok", checked_at=NOW - 100),  # its copy was deleted
    }
    disabled = remote(tmp_path, "http://127.0.0.1:9/x", "t/off").model_copy(update={"enabled": False})
    wanted, wait = due([new, fresh, stale, failed, gone, disabled], states, interval=3600, retry=600, now=NOW)
    assert [s.id for s in wanted] == ["t/new", "t/stale", "t/gone"]
    assert wait == 550  # the failed one is retried 600 s after its attempt
    assert due([fresh], states, interval=3600, retry=600, now=NOW) == ([], 3500)


# --- the mirror -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sid", "url", "expected"), [
    ("ut1/adult", "https://dsi.ut-capitole.fr/blacklists/download/adult.tar.gz", "ut1/adult/adult.tar.gz"),
    ("shadowwhisperer/adult", "https://raw.githubusercontent.com/ShadowWhisperer/BlockLists/master/Lists/Adult",
     "shadowwhisperer/adult/Adult"),
    ("hategroup-dnsbl", "https://example.org/x/blocklist.txt?ref=1", "hategroup-dnsbl/blocklist.txt"),
    ("trust/a b", "https://example.org/", "trust/a%20b/list.txt"),
])  # fmt: skip
def test_download_url_under_the_mirror(tmp_path: Path, sid: str, url: str, expected: str) -> None:
    source = remote(tmp_path, url, sid)
    assert download_url(source, None) == url
    assert download_url(source, "http://mirror.lan:8080/lists") == f"http://mirror.lan:8080/lists/{expected}"
    assert download_url(source, "http://mirror.lan:8080/lists/") == f"http://mirror.lan:8080/lists/{expected}"


@pytest.mark.parametrize("bad", ["ftp://mirror/", "mirror.lan", "http://", "http://m/ x"])
def test_mirror_must_be_an_http_url(tmp_path: Path, bad: str) -> None:
    (tmp_path / "c.yaml").write_text("lists: {}\n")
    with pytest.raises(ConfigError, match=r"lists\.mirror"):
        load_config(tmp_path / "c.yaml", env={"FILTERPROXY__LISTS__MIRROR": bad})


def test_update_through_the_mirror_records_state_and_log(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/m/test/remote/list.txt"] = Route()
    source = remote(tmp_path, "https://upstream.invalid/path/list.txt")
    [result] = update_sources([source], tmp_path / "state", timeout=5, mirror=f"{origin.url}/m/")
    assert result.ok and source.path.read_bytes() == GOOD
    [state] = read_states(tmp_path / "state", [source]).values()
    assert (state.status, state.entries, state.last_error) == ("ok", 200, None)
    assert state.checked_at is not None and time.time() - state.checked_at < 60

    origin.routes["/m/test/remote/list.txt"] = Route(status=503, etag='"v2"')
    [result] = update_sources([source], tmp_path / "state", timeout=5, mirror=f"{origin.url}/m/", force=True)
    [state] = read_states(tmp_path / "state", [source]).values()
    assert state.status == "failed" and "HTTP 503" in str(state.last_error) and state.entries == 200
    assert source.path.read_bytes() == GOOD, "the last good copy stays"
    assert [a.outcome for a in read_log(tmp_path / "state")] == ["updated", "failed"]
    assert all(json.loads(line)["source"] == "test/remote"
               for line in (tmp_path / "state" / LOG_FILE).read_text().splitlines())


# --- progress ---------------------------------------------------------------------------------------


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_only_for_large_downloads() -> None:
    assert for_terminal(io.StringIO()) is None
    factory = for_terminal(Tty())
    assert factory is not None and isinstance(factory("x"), TerminalProgress)
    out = Tty()
    small = TerminalProgress(out, "small")
    small(1000, 2000)
    small.close()
    assert out.getvalue() == ""
    big = TerminalProgress(out, "ut1/adult", interval=0)
    big(1 << 20, 4 << 20)
    big(4 << 20, 4 << 20)
    big.close()
    assert out.getvalue() == ("\rut1/adult: 1.0 of 4.2 MB (25%)\x1b[K\rut1/adult: 4.2 of 4.2 MB (100%)\x1b[K\n")


def test_update_feeds_the_progress_line(origin: Origin, tmp_path: Path) -> None:
    body = b"".join(b"host%d.example\n" % i for i in range(120_000))  # 2 MB, several chunks
    origin.routes["/big.txt"] = Route(body=body)
    out = Tty()
    update_sources([remote(tmp_path, f"{origin.url}/big.txt")], tmp_path / "state", timeout=5,
                   progress=lambda label: TerminalProgress(out, label, interval=0))
    lines = out.getvalue()
    assert lines.startswith("\rtest/remote: ") and f"{len(body) / 1e6:.1f} of" in lines
    assert lines.endswith("(100%)\x1b[K\n")


# --- offline, stats and the CLI ----------------------------------------------------------------------


def write_install(tmp_path: Path, url: str) -> list[str]:
    (tmp_path / "filterproxy.yaml").write_text("data_dir: data\nlists:\n  sources_file: sources.yaml\n")
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - {id: local/x, category: adult, path: x.txt}\n"
        f"  - {{id: remote/bet, category: gambling, path: downloads/bet.txt, url: '{url}'}}\n"
    )
    (tmp_path / "x.txt").write_text("adult.example\n")
    return ["--config", str(tmp_path / "filterproxy.yaml")]


def test_offline_update_refuses_without_a_request(origin: Origin, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    origin.routes["/bet.txt"] = Route(body=b"remote-bet.example\n")
    config = write_install(tmp_path, f"{origin.url}/bet.txt")
    assert main([*config, "lists", "update"]) == 1  # the session runs offline (tests/conftest.py)
    assert "lists.offline" in capsys.readouterr().err and origin.requests == []


def test_stats_show_the_download_state(origin: Origin, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       list_downloads: None) -> None:  # fmt: skip
    origin.routes["/bet.txt"] = Route(body=b"remote-bet.example\nother-bet.example\n")
    config = write_install(tmp_path, f"{origin.url}/bet.txt")
    assert main([*config, "lists", "stats", "--json"]) == 0
    before = {s["source"]: s for s in json.loads(capsys.readouterr().out)["sources"]}
    assert before["local/x"]["download"] is None
    assert before["remote/bet"]["download"]["status"] == "never"
    assert main([*config, "lists", "update"]) == 0
    capsys.readouterr()
    assert main([*config, "lists", "stats", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    row = next(s for s in stats["sources"] if s["source"] == "remote/bet")
    assert (row["entries"], row["download"]["status"], row["download"]["entries"]) == (2, "ok", 2)
    assert row["download"]["age_hours"] == 0.0 and stats["downloads"] == "online"
    origin.routes["/bet.txt"] = Route(status=500, etag='"v9"')
    assert main([*config, "lists", "update", "--force"]) == 1
    capsys.readouterr()
    assert main([*config, "lists", "stats"]) == 0
    text = capsys.readouterr().out
    assert "failed" in text and "last error: " in text and "HTTP 500" in text


def test_cli_update_through_the_mirror(origin: Origin, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch, list_downloads: None) -> None:  # fmt: skip
    origin.routes["/mirror/remote/bet/bet.txt"] = Route(body=b"mirrored-bet.example\n")
    config = write_install(tmp_path, "https://publisher.invalid/lists/bet.txt")
    monkeypatch.setenv("FILTERPROXY__LISTS__MIRROR", f"{origin.url}/mirror/")
    assert main([*config, "lists", "update"]) == 0
    assert "remote/bet: updated: 1 entries" in capsys.readouterr().out
    assert [p for p, _ in origin.requests] == ["/mirror/remote/bet/bet.txt"]
    assert main([*config, "lists", "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["downloads"] == f"mirror {origin.url}/mirror/"


def test_download_dir_keeps_downloads_out_of_the_install(origin: Origin, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch, list_downloads: None) -> None:
    origin.routes["/bet.txt"] = Route(body=b"dl-bet.example\n")
    install = tmp_path / "install"
    install.mkdir()
    config = write_install(install, f"{origin.url}/bet.txt")
    install.chmod(0o555)  # a read-only install: the downloads must go elsewhere
    monkeypatch.setenv("FILTERPROXY__LISTS__DOWNLOAD_DIR", str(tmp_path / "state" / "downloads"))
    monkeypatch.setenv("FILTERPROXY_DATA_DIR", str(tmp_path / "state"))
    try:
        assert main([*config, "lists", "update"]) == 0
        assert (tmp_path / "state" / "downloads" / "remote" / "bet" / "bet.txt").read_text() == "dl-bet.example\n"
        capsys.readouterr()
        assert main([*config, "check", "--json", "www.dl-bet.example"]) == 0
        assert json.loads(capsys.readouterr().out)["action"] == "block"
    finally:
        install.chmod(0o755)
    assert not (install / "downloads").exists()


# --- the service: first-start fetch, metrics ---------------------------------------------------------


def test_first_start_fetches_in_the_background_and_swaps_the_index(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/bet.txt"] = Route(body=b"remote-bet.example\n", delay=0.5)
    write_install(tmp_path, f"{origin.url}/bet.txt")
    config = load_config(tmp_path / "filterproxy.yaml",
                         env={"FILTERPROXY__LISTS__WATCH": "false", "FILTERPROXY__CATEGORISE__ENABLED": "false"})
    client = ipaddress.ip_address("10.0.0.1")

    def verdict(host: str) -> Action:
        return manager.engine.classify(Query(client, host, datetime.now(UTC))).action

    async def scenario() -> None:
        started = time.monotonic()
        await manager.start()
        assert time.monotonic() - started < 0.5, "the fetch does not delay the start"
        assert verdict("adult.example") is Action.BLOCK and verdict("remote-bet.example") is Action.ALLOW
        for _ in range(200):
            if verdict("www.remote-bet.example") is Action.BLOCK:
                break
            await asyncio.sleep(0.05)
        await manager.stop()

    manager = ListManager(config, load_engine(config))
    assert manager.downloads_wanted()
    asyncio.run(scenario())
    assert verdict("www.remote-bet.example") is Action.BLOCK
    assert [p for p, _ in origin.requests] == ["/bet.txt"]

    registry = CollectorRegistry()
    register_list_state_metrics(registry, lambda: resolve_sources(config), config.data_dir / "lists")
    text = generate_latest(registry).decode()
    assert 'filterproxy_lists_source_state{source="remote/bet",state="ok"} 1.0' in text
    assert 'filterproxy_lists_source_state{source="remote/bet",state="never"} 0.0' in text
    assert 'filterproxy_lists_source_downloaded_entries{source="remote/bet"} 1.0' in text
    assert "remote-bet.example" not in text and "local/x" not in text

    # a restart within the interval fetches nothing
    again = ListManager(config, load_engine(config))

    async def restart() -> None:
        await again.start()
        await asyncio.sleep(0.5)
        await again.stop()

    asyncio.run(restart())
    assert len(origin.requests) == 1


@pytest.mark.parametrize("env", [{"FILTERPROXY__LISTS__OFFLINE": "true"},
                                 {"FILTERPROXY__LISTS__UPDATE_INTERVAL_HOURS": "0"}])
def test_no_background_downloads_offline_or_without_an_interval(tmp_path: Path, env: dict[str, str]) -> None:
    write_install(tmp_path, "http://127.0.0.1:9/bet.txt")
    config = load_config(tmp_path / "filterproxy.yaml", env=env)
    assert not ListManager(config, load_engine(config)).downloads_wanted()
