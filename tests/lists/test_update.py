"""`lists update` against a real HTTP server on 127.0.0.1 (never the internet): ETags, 304s,
server errors, truncated and garbage bodies; the last good copy must survive every failure."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from filterproxy.lists.settings import SourceSettings
from filterproxy.lists.update import STATE_FILE, UpdateResult, update_sources
from filterproxy.model import Category
from tests.lists.tarballs import tar_bytes

GOOD = b"# list\n" + b"".join(b"host%d.example\n" % i for i in range(200))


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes = GOOD
    status: int = 200
    etag: str | None = '"v1"'
    last_modified: str | None = None
    content_length: int | None = None  # lie about the length to simulate a cut connection
    delay: float = 0.0


@dataclass
class Origin:
    """The local list server: routes by path, and a record of every request's headers."""

    url: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)

    def headers_of(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == path]


def _handler(origin: Origin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            origin.requests.append((self.path, dict(self.headers.items())))
            route = origin.routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            time.sleep(route.delay)
            if route.status == 200 and self._not_modified(route):
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(route.status)
            if self.path in origin.redirects:
                self.send_header("Location", origin.redirects[self.path])
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.last_modified:
                self.send_header("Last-Modified", route.last_modified)
            length = route.content_length if route.content_length is not None else len(route.body)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(route.body)
            self.close_connection = True

        def _not_modified(self, route: Route) -> bool:
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                return True
            since = self.headers.get("If-Modified-Since")
            return route.etag is None and since is not None and since == route.last_modified

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up early (size limit, timeout tests) are expected here


@pytest.fixture
def origin() -> Iterator[Origin]:
    server = QuietServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Origin(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def source(origin: Origin, tmp_path: Path, name: str = "list.txt", **extra: object) -> SourceSettings:
    fields: dict[str, object] = {
        "id": f"test/{name}",
        "category": Category.GAMBLING,
        "path": tmp_path / "lists" / name,
        "url": f"{origin.url}/{name}",
    }
    fields.update(extra)
    return SourceSettings.model_validate(fields)


def run(src: SourceSettings, tmp_path: Path, **kwargs: object) -> UpdateResult:
    [result] = update_sources([src], tmp_path / "state", timeout=5.0, **kwargs)  # type: ignore[arg-type]
    return result


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "lists").glob(".fetch-*"))


def test_first_download_then_not_modified(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/list.txt"] = Route()
    src = source(origin, tmp_path)
    first = run(src, tmp_path)
    assert (first.outcome, first.ok, first.entries, first.bad_lines, first.size) == ("updated", True, 200, 0, len(GOOD))
    assert src.path.read_bytes() == GOOD
    assert "If-None-Match" not in origin.headers_of("/list.txt")[0]
    state = json.loads((tmp_path / "state" / STATE_FILE).read_text())
    assert state["test/list.txt"]["etag"] == '"v1"'
    assert state["test/list.txt"]["sha256"] == hashlib.sha256(GOOD).hexdigest()
    mtime = src.path.stat().st_mtime_ns

    second = run(src, tmp_path)
    assert (second.outcome, second.ok) == ("unchanged", True)
    assert origin.headers_of("/list.txt")[1]["If-None-Match"] == '"v1"'
    assert src.path.stat().st_mtime_ns == mtime
    assert str(second) == "test/list.txt: unchanged: not modified since the last download"


def test_changed_list_replaces_the_copy(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/list.txt"] = Route()
    src = source(origin, tmp_path)
    run(src, tmp_path)
    newer = b"".join(b"new%d.example\n" % i for i in range(150))
    origin.routes["/list.txt"] = Route(body=newer, etag='"v2"')
    result = run(src, tmp_path)
    assert (result.outcome, result.entries) == ("updated", 150)
    assert src.path.read_bytes() == newer
    assert leftovers(tmp_path) == []


def test_a_list_that_shrank_a_lot_needs_force(origin: Origin, tmp_path: Path) -> None:
    """Upstream build breakages publish near-empty lists (blocklistproject gambling, June 2026)."""
    origin.routes["/list.txt"] = Route()
    src = source(origin, tmp_path)
    run(src, tmp_path)
    origin.routes["/list.txt"] = Route(body=b"a.example\nb.example\n", etag='"v2"')
    refused = run(src, tmp_path)
    assert not refused.ok and "shrank from 200 to 2 entries" in refused.detail
    assert src.path.read_bytes() == GOOD
    forced = run(src, tmp_path, force=True)
    assert (forced.outcome, forced.entries) == ("updated", 2)
    assert "If-None-Match" not in origin.headers_of("/list.txt")[2], "force downloads unconditionally"


def test_last_modified_without_etag(origin: Origin, tmp_path: Path) -> None:
    stamp = "Wed, 21 Oct 2026 07:28:00 GMT"
    origin.routes["/list.txt"] = Route(etag=None, last_modified=stamp)
    src = source(origin, tmp_path)
    assert run(src, tmp_path).outcome == "updated"
    assert run(src, tmp_path).outcome == "unchanged"
    assert origin.headers_of("/list.txt")[1]["If-Modified-Since"] == stamp


def test_validators_are_only_sent_when_the_copy_exists(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/list.txt"] = Route()
    src = source(origin, tmp_path)
    run(src, tmp_path)
    src.path.unlink()
    assert run(src, tmp_path).outcome == "updated"
    assert "If-None-Match" not in origin.headers_of("/list.txt")[1]


def test_validators_of_another_url_are_not_sent(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/list.txt"] = Route()
    origin.routes["/moved.txt"] = Route()
    run(source(origin, tmp_path), tmp_path)
    moved = source(origin, tmp_path, url=f"{origin.url}/moved.txt")
    assert run(moved, tmp_path).outcome == "updated"
    assert "If-None-Match" not in origin.headers_of("/moved.txt")[0]


BROKEN = [
    ("server error", Route(status=500, body=b"oops"), "HTTP 500"),
    ("not found", Route(status=404), "HTTP 404"),
    ("truncated", Route(content_length=len(GOOD) + 1000), "truncated download"),
    ("empty", Route(body=b""), "empty response"),
    ("html error page", Route(body=b"<html><body><h1>Maintenance</h1>\n<p>back soon</p></body></html>\n"),
     "malformed"),
    ("garbage", Route(body=bytes(range(256)) * 40), "malformed"),
    ("truncated gzip", Route(body=gzip.compress(GOOD * 50)[:300]), "unusable"),
    ("only comments", Route(body=b"# nothing here\n\n"), "no entries"),
    ("too many bad lines", Route(body=GOOD + b"bad..example\n" * 20), "20 of 220 lines malformed"),
]  # fmt: skip


@pytest.mark.parametrize(("route", "reason"), [(r, why) for _, r, why in BROKEN], ids=[n for n, _, _ in BROKEN])
def test_failures_keep_the_last_good_copy(origin: Origin, tmp_path: Path, route: Route, reason: str) -> None:
    origin.routes["/list.txt"] = Route()
    src = source(origin, tmp_path)
    assert run(src, tmp_path).ok
    origin.routes["/list.txt"] = Route(**{**route.__dict__, "etag": '"v2"'})
    result = run(src, tmp_path)
    assert (result.outcome, result.ok) == ("failed", False)
    assert reason in result.detail and result.detail.endswith("kept the previous copy")
    assert src.path.read_bytes() == GOOD
    assert leftovers(tmp_path) == []
    state = json.loads((tmp_path / "state" / STATE_FILE).read_text())
    assert state["test/list.txt"]["etag"] == '"v1"', "state still describes the copy we hold"


def test_failure_without_a_previous_copy(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/list.txt"] = Route(status=503)
    result = run(source(origin, tmp_path), tmp_path)
    assert not result.ok and result.detail.endswith("no previous copy")
    assert not (tmp_path / "lists" / "list.txt").exists()


def test_per_source_bad_share(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/list.txt"] = Route(body=GOOD + b"bad..example\n" * 20)
    assert run(source(origin, tmp_path, max_bad_share=0.2), tmp_path).bad_lines == 20
    origin.routes["/strict.txt"] = Route(body=GOOD + b"bad..example\n")
    assert not run(source(origin, tmp_path, "strict.txt"), tmp_path, max_bad_share=0.001).ok


def test_unsupported_adblock_rules_do_not_count_as_bad(origin: Origin, tmp_path: Path) -> None:
    body = b"||a.example^\n" + b"example.org##.ad\n" * 50
    origin.routes["/rules.txt"] = Route(body=body)
    result = run(source(origin, tmp_path, "rules.txt", format="adblock"), tmp_path)
    assert (result.outcome, result.entries, result.bad_lines) == ("updated", 1, 0)


def test_size_limit(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/list.txt"] = Route()
    result = run(source(origin, tmp_path), tmp_path, max_bytes=100)
    assert not result.ok and "larger than the 100 byte limit" in result.detail
    assert leftovers(tmp_path) == []


def test_timeout(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/list.txt"] = Route(delay=1.5)
    [result] = update_sources([source(origin, tmp_path)], tmp_path / "state", timeout=0.3)
    assert not result.ok and "cannot download" in result.detail


def test_connection_refused(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens there
    src = SourceSettings(id="x", category=Category.HATE, path=tmp_path / "lists" / "x.txt",
                         url=f"http://127.0.0.1:{port}/x.txt")  # fmt: skip
    result = run(src, tmp_path)
    assert not result.ok and "cannot download" in result.detail


def test_only_http_urls(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("a.example\n")
    src = SourceSettings(id="x", category=Category.HATE, path=tmp_path / "lists" / "x.txt",
                         url=f"file://{tmp_path / 'secret.txt'}")  # fmt: skip
    result = run(src, tmp_path)
    assert not result.ok and "only http:// and https://" in result.detail


def test_disabled_and_local_sources_are_left_alone(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/list.txt"] = Route()
    disabled = source(origin, tmp_path, enabled=False)
    local = SourceSettings(id="local", category=Category.SOCIAL, path=tmp_path / "local.txt")
    assert update_sources([disabled, local], tmp_path / "state", timeout=5) == []
    assert origin.requests == []


def test_several_sources_one_failing(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/a.txt"] = Route()
    origin.routes["/b.txt"] = Route(status=500)
    results = update_sources([source(origin, tmp_path, "a.txt"), source(origin, tmp_path, "b.txt")],
                             tmp_path / "state", timeout=5)  # fmt: skip
    assert [(r.source_id, r.outcome) for r in results] == [("test/a.txt", "updated"), ("test/b.txt", "failed")]


def test_corrupt_state_file_means_unconditional_download(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/list.txt"] = Route()
    src = source(origin, tmp_path)
    run(src, tmp_path)
    (tmp_path / "state" / STATE_FILE).write_text("{not json")
    assert run(src, tmp_path).outcome == "updated"
    assert "If-None-Match" not in origin.headers_of("/list.txt")[1]


def test_ut1_tarball(origin: Origin, tmp_path: Path) -> None:
    tarball = tar_bytes(
        {"gambling/domains": "bet.example\ncasino.example\n", "gambling/urls": "news.example/odds/\n",
         "gambling/usage": "black\n"}
    )  # fmt: skip
    origin.routes["/gambling.tar.gz"] = Route(body=tarball)
    src = source(origin, tmp_path, "gambling.tar.gz", format="ut1", ut1_category="gambling")
    result = run(src, tmp_path)
    assert (result.outcome, result.entries) == ("updated", 3)
    assert tarfile.is_tarfile(src.path)


def test_expected_sha256(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/list.txt"] = Route()
    good = source(origin, tmp_path, sha256=hashlib.sha256(GOOD).hexdigest())
    assert run(good, tmp_path).ok
    origin.routes["/other.txt"] = Route()
    wrong = source(origin, tmp_path, "other.txt", sha256="0" * 64)
    result = run(wrong, tmp_path)
    assert not result.ok and "does not match" in result.detail


def test_cli_update_then_check_sees_the_new_list(origin: Origin, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 list_downloads: None) -> None:  # fmt: skip
    from filterproxy.cli import main

    origin.routes["/gambling.txt"] = Route(body=b"# remote\nremote-bet.example\n")
    (tmp_path / "filterproxy.yaml").write_text("data_dir: data\nlists:\n  sources_file: sources.yaml\n")
    (tmp_path / "sources.yaml").write_text(
        "sources:\n"
        "  - {id: remote/gambling, category: gambling, path: downloads/gambling.txt, format: plain,\n"
        f"     url: '{origin.url}/gambling.txt', licence: MIT}}\n"
    )
    config = ["--config", str(tmp_path / "filterproxy.yaml")]
    assert main([*config, "lists", "update", "--timeout", "5"]) == 0
    assert "remote/gambling: updated: 1 entries" in capsys.readouterr().out
    assert (tmp_path / "downloads" / "gambling.txt").read_text() == "# remote\nremote-bet.example\n"
    assert (tmp_path / "data" / "lists" / STATE_FILE).exists()
    assert main([*config, "check", "--json", "www.remote-bet.example"]) == 0
    assert json.loads(capsys.readouterr().out)["action"] == "block"

    origin.routes["/gambling.txt"] = Route(status=500)
    assert main([*config, "lists", "update", "--timeout", "5"]) == 1
    assert "HTTP 500" in capsys.readouterr().out
    assert (tmp_path / "downloads" / "gambling.txt").read_text() == "# remote\nremote-bet.example\n"


def test_redirects_are_followed_only_to_http(origin: Origin, tmp_path: Path) -> None:
    origin.routes["/new.txt"] = Route()
    origin.routes["/old.txt"] = Route(status=301, body=b"")
    origin.routes["/ftp.txt"] = Route(status=302, body=b"")
    origin.redirects = {"/old.txt": f"{origin.url}/new.txt", "/ftp.txt": "ftp://127.0.0.1/list.txt"}
    assert run(source(origin, tmp_path, "old.txt"), tmp_path).entries == 200
    result = run(source(origin, tmp_path, "ftp.txt"), tmp_path)
    assert not result.ok and "redirect to a non-HTTP URL" in result.detail
