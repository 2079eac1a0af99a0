"""Content analysis through a real mitmproxy: pages no list or name gives away, and educational pages.

The origin serves pages written under tests/content/pages on neutral names (site-*.example);
the lists know none of them. Pupils (127.0.0.1) are read over plain HTTP; staff (127.0.0.3) are
fully intercepted, so their HTTPS pages are read too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from filterproxy.model import Category, Reason
from tests.http.clients import via_connect
from tests.http.conftest import PUPIL, STAFF, RunningProxy, curl, engine_for_tests, make_config
from tests.http.content_origin import ContentOrigin

HARMFUL = [
    ("site-a.example", "adult", Category.ADULT),
    ("site-b.example", "violence", Category.VIOLENCE),
    ("site-c.example", "hate", Category.HATE),
    ("site-d.example", "drugs", Category.DRUGS),
    ("site-e.example", "gambling", Category.GAMBLING),
    ("site-f.example", "adult_obfuscated", Category.ADULT),
    ("site-w.example", "gambling_obfuscated", Category.GAMBLING),
    ("site-x.example", "drugs_obfuscated", Category.DRUGS),
]
EDUCATIONAL = [
    ("site-g.example", "rse"),
    ("site-h.example", "drug_awareness"),
    ("site-i.example", "holocaust_history"),
    ("site-j.example", "gambling_lesson"),
    ("site-k.example", "war_history"),
    ("site-l.example", "selfharm_support"),
    ("site-m.example", "counter_extremism"),
    ("site-n.example", "recipe"),
]
BLOCK_TEXT = b"categorised automatically: ask for a review"


@pytest.fixture(scope="module")
def content_origin(pki: tuple[Path, Path, Path]) -> Iterator[ContentOrigin]:
    origin = ContentOrigin(pki[1], pki[2])
    for host, page, _ in HARMFUL:
        origin.serve(host, page)
    for host, page in EDUCATIONAL:
        origin.serve(host, page)
    yield origin
    origin.close()


@pytest.fixture(scope="module")
def proxy(
    tmp_path_factory: pytest.TempPathFactory, content_origin: ContentOrigin, pki: tuple[Path, Path, Path]
) -> Iterator[RunningProxy]:
    config = make_config(tmp_path_factory.mktemp("data"))
    options = {"ssl_verify_upstream_trusted_ca": str(pki[0])}
    running = RunningProxy(config, engine_for_tests(), content_origin, options=options)  # type: ignore[arg-type]
    yield running
    running.close()


def school_ca(proxy: RunningProxy) -> Path:
    return proxy.server.config.data_dir / "ca" / "mitmproxy-ca-cert.pem"


def get(proxy: RunningProxy, url: str, *extra: str) -> tuple[int, bytes]:
    result = curl("-s", "-o", "-", "-w", "\n%{http_code}", "-H", "Accept: text/html", "-x", proxy.url, *extra, url)
    body, _, code = result.stdout.rpartition("\n")
    return int(code or 0), body.encode()


@pytest.mark.parametrize(("host", "page", "category"), HARMFUL)
def test_harmful_pages_that_no_list_knows_get_the_block_page(
    proxy: RunningProxy, content_origin: ContentOrigin, host: str, page: str, category: Category
) -> None:
    status, body = get(proxy, f"http://{host}/index.html")
    assert status == 403 and BLOCK_TEXT in body, body[:300]
    assert b"Free porn" not in body and b"free spins" not in body  # the page itself never reaches the client
    event = next(e for e in proxy.sink.events if e.verdict.host == host)
    assert event.verdict.reason is Reason.CONTENT and event.verdict.category is category
    assert event.verdict.source is not None and event.verdict.source.startswith(f"content/{category.value}@")
    assert event.verdict.rule is not None and "points >= 100" in event.verdict.rule
    assert event.reference.encode() in body
    assert proxy.metric("filterproxy_content_verdicts_total", category=category.value, action="block", kind="page") >= 1


@pytest.mark.parametrize(("host", "page"), EDUCATIONAL)
def test_educational_pages_on_the_same_topics_pass(proxy: RunningProxy, host: str, page: str) -> None:
    status, body = get(proxy, f"http://{host}/lesson.html")
    assert status == 200, body[:300]
    assert body == (Path(__file__).resolve().parents[1] / "content" / "pages" / f"{page}.html").read_bytes()
    assert not [e for e in proxy.sink.events if e.verdict.host == host]


def test_the_next_request_to_a_blocked_site_is_decided_without_the_body(
    proxy: RunningProxy, content_origin: ContentOrigin
) -> None:
    host = "site-o.example"
    content_origin.serve(host, "gambling")
    assert get(proxy, f"http://{host}/")[0] == 403
    hits = content_origin.hits[host]
    content_origin.serve(host, "recipe")  # the site now serves a clean page: only a fresh read would pass it
    status, body = get(proxy, f"http://{host}/other/page")
    assert status == 403 and BLOCK_TEXT in body
    assert content_origin.hits[host] == hits  # the origin was not asked again
    verdict = proxy.engine.classify(_query(host))
    assert verdict.reason is Reason.CONTENT and verdict.blocked  # and DNS asks the same engine
    assert proxy.metric("filterproxy_content_verdicts_total", category="gambling", action="block", kind="cached") >= 1


def test_intercepted_https_pages_are_read_for_intercepted_groups(
    proxy: RunningProxy, content_origin: ContentOrigin
) -> None:
    host = "site-p.example"
    content_origin.serve(host, "hate")
    blocked = via_connect(proxy.port, host, school_ca(proxy), path="/", source=STAFF)
    assert blocked.status_line.startswith("HTTP/1.1 403") and BLOCK_TEXT in blocked.body
    ok = via_connect(proxy.port, "site-i.example", school_ca(proxy), path="/", source=STAFF)
    assert ok.status_line.endswith("200 OK") and b"Holocaust education" in ok.body


@pytest.mark.parametrize("how", ["chunked", "gzip"])
def test_streamed_and_compressed_bodies_are_read_too(
    proxy: RunningProxy, content_origin: ContentOrigin, how: str
) -> None:
    host = {"chunked": "site-q.example", "gzip": "site-r.example"}[how]
    content_origin.serve(host, "drugs", how=how)
    status, body = get(proxy, f"http://{host}/", "--compressed")
    assert BLOCK_TEXT in body and b"stealth shipping" not in body
    assert status == (200 if how == "chunked" else 403)  # a streamed body's status line had already gone out
    clean = "site-s.example" if how == "chunked" else "site-t.example"
    content_origin.serve(clean, "drug_awareness", how=how)
    status, body = get(proxy, f"http://{clean}/", "--compressed")
    assert status == 200 and b"Drug awareness for Year 10" in body and body.endswith(b"</html>\n")


def test_a_large_clean_page_streams_through_whole(proxy: RunningProxy, content_origin: ContentOrigin) -> None:
    line = b"<p>The weather today is mild with light rain in the afternoon.</p>\n"
    page = b"<html><body>" + line * 40000 + b"</body></html>"
    content_origin.serve("site-u.example", page, how="chunked")
    status, body = get(proxy, "http://site-u.example/")
    assert status == 200 and body == page


def test_non_text_bodies_and_allow_listed_sites_are_not_read(
    proxy: RunningProxy, content_origin: ContentOrigin
) -> None:
    raw = (Path(__file__).resolve().parents[1] / "content" / "pages" / "adult.html").read_bytes()
    content_origin.serve("site-v.example", raw, content_type="application/octet-stream")
    status, body = get(proxy, "http://site-v.example/file.bin")
    assert status == 200 and body == raw
    content_origin.serve("ok.example", raw)  # on the school's allow list
    status, body = get(proxy, "http://ok.example/")
    assert status == 200 and body == raw


def test_selfharm_pages_are_logged_not_blocked_by_default(proxy: RunningProxy, content_origin: ContentOrigin) -> None:
    content_origin.serve("site-y.example", "selfharm")
    status, body = get(proxy, "http://site-y.example/")
    assert status == 200 and b"ana coach" in body  # log: the page passes ...
    [event] = [e for e in proxy.sink.events if e.verdict.host == "site-y.example"]
    assert event.verdict.reason is Reason.CONTENT and event.verdict.category is Category.SELFHARM  # ... and is recorded
    assert not event.verdict.blocked


def _query(host: str):  # type: ignore[no-untyped-def]
    import ipaddress
    from datetime import UTC, datetime

    from filterproxy.model import Query

    return Query(ipaddress.ip_address(PUPIL), host, datetime.now(UTC))
