"""The background categoriser against a local origin: home pages fetched, scored and fed to the site cache."""

from __future__ import annotations

import ipaddress
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from filterproxy.classify.engine import Engine
from filterproxy.config.model import Config
from filterproxy.content.analyser import Analyser, load_lists
from filterproxy.content.background import Categoriser
from filterproxy.content.metrics import content_metrics
from filterproxy.content.settings import BackgroundSettings
from filterproxy.lists.testing import make_engine
from filterproxy.model import Category, Query, Reason
from tests.http.content_origin import ContentOrigin
from tests.http.pki import make_pki
from tests.support import Loop

CLIENT = ipaddress.ip_address("10.0.0.9")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def origin(pki: tuple[Path, Path, Path]) -> Iterator[ContentOrigin]:
    server = ContentOrigin(pki[1], pki[2])
    server.serve("site-a.example", "gambling")
    server.serve("site-b.example", "drug_awareness")
    server.serve("site-c.example", "adult")
    server.serve("site-d.example", "hate")
    server.serve("site-e.example", b"\x89PNG not a page", content_type="image/png")
    yield server
    server.close()


def categoriser(
    origin: ContentOrigin, pki: tuple[Path, Path, Path], engine: Engine, **settings: object
) -> tuple[Categoriser, CollectorRegistry]:
    registry = CollectorRegistry()
    metrics = content_metrics(registry)
    context = ssl.create_default_context(cafile=str(pki[0]))

    def connect(name: str, port: int) -> tuple[str, int]:
        return ("127.0.0.1", origin.https_port if port == 443 else origin.http_port)

    made = Categoriser(
        BackgroundSettings.model_validate({"enabled": True, **settings}),
        Analyser(load_lists(None), 262144, metrics),
        engine,
        metrics,
        context=context,
        connect=connect,
    )
    return made, registry


def classify(engine: Engine, name: str) -> Reason:
    return engine.classify(Query(CLIENT, name, datetime.now(UTC))).reason


def test_off_by_default() -> None:
    assert Config().content.background.enabled is False


def test_a_harmful_home_page_becomes_a_content_verdict_for_its_name(
    origin: ContentOrigin, pki: tuple[Path, Path, Path]
) -> None:
    engine = make_engine()
    made, registry = categoriser(origin, pki, engine)
    found = made.categorise("site-a.example")
    assert found is not None and found.category is Category.GAMBLING
    verdict = engine.classify(Query(CLIENT, "site-a.example", datetime.now(UTC)))
    assert verdict.reason is Reason.CONTENT and verdict.blocked and verdict.category is Category.GAMBLING
    assert made.categorise("site-b.example") is None  # an educational page: nothing recorded
    assert classify(engine, "site-b.example") is Reason.UNLISTED
    assert made.categorise("site-e.example") is None and made.categorise("nothing-here.example") is None
    sample = registry.get_sample_value
    assert sample("filterproxy_content_background_fetches_total", {"outcome": "scanned"}) == 2
    assert sample("filterproxy_content_background_fetches_total", {"outcome": "not_text"}) == 1
    assert sample("filterproxy_content_background_fetches_total", {"outcome": "failed"}) == 1


def test_names_the_engine_leaves_unlisted_are_visited_at_the_configured_rate(
    origin: ContentOrigin, pki: tuple[Path, Path, Path]
) -> None:
    engine = make_engine(deny={"social": ["listed.example"]})
    made, _ = categoriser(origin, pki, engine, per_minute=30, concurrency=1)
    loop = Loop()
    try:
        loop.run(made.start())
        before = dict(origin.hits)
        for name in ("site-c.example", "site-d.example", "listed.example", "10.1.2.3"):
            classify(engine, name)  # DNS or the proxy asking: the engine offers what it leaves unlisted
        classify(engine, "site-c.example")  # a repeat is not queued twice
        deadline = time.monotonic() + 10
        while classify(engine, "site-c.example") is not Reason.CONTENT and time.monotonic() < deadline:
            time.sleep(0.05)
        assert classify(engine, "site-c.example") is Reason.CONTENT
        assert origin.hits["site-d.example"] == before.get("site-d.example", 0)  # one every two seconds: not yet
        while classify(engine, "site-d.example") is not Reason.CONTENT and time.monotonic() < deadline:
            time.sleep(0.05)
        assert classify(engine, "site-d.example") is Reason.CONTENT
        assert origin.hits["site-c.example"] - before.get("site-c.example", 0) == 1
        assert "listed.example" not in origin.hits
    finally:
        loop.run(made.stop())
        loop.close()
    assert engine.unlisted is None


def test_the_queue_is_bounded(origin: ContentOrigin, pki: tuple[Path, Path, Path]) -> None:
    made, registry = categoriser(origin, pki, make_engine(), queue=2)
    for name in ("a.example", "b.example", "c.example", "a.example"):
        made.offer(name)
    assert registry.get_sample_value("filterproxy_content_background_fetches_total", {"outcome": "dropped"}) == 1
