"""Alerts reach a local webhook server (retried) and a local SMTP sink (aiosmtpd); digest too."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from prometheus_client import CollectorRegistry

from filterproxy.incidents.queue import IncidentQueue
from filterproxy.incidents.settings import IncidentSettings
from filterproxy.model import Category

from .conftest import free_port, make_event


class Hook:
    """A webhook receiver on 127.0.0.1 that fails the first ``fail`` requests with HTTP 500."""

    def __init__(self, fail: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.attempts += 1
                if hook.attempts <= fail:
                    self.send_response(500)
                else:
                    hook.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alert"


class Sink:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def wait_for(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)


def make_queue(tmp_path: Path, alerts: dict[str, Any]) -> tuple[IncidentQueue, CollectorRegistry]:
    registry = CollectorRegistry()
    settings = IncidentSettings.model_validate(
        {"store": f"sqlite:{tmp_path / 'i.db'}", "flush_interval": 0.05, "alerts": alerts}
    )
    return IncidentQueue(settings, tmp_path, registry, node="n1"), registry


def test_high_severity_alerts_by_webhook_with_retry_and_email(tmp_path: Path, smtp: tuple[Sink, int]) -> None:
    hook, (sink, port) = Hook(fail=2), smtp
    queue, registry = make_queue(
        tmp_path,
        {
            "webhook_url": hook.url,
            "webhook_backoff": 0.05,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "alert_to": ["ict@school.example", "dsl@school.example"],
        },
    )
    queue.start_sync()
    queue.submit(make_event("10.0.0.7", "harm.example", Category.SELFHARM, search_term="how to"))
    queue.submit(make_event("10.0.0.8", "bet.example", Category.GAMBLING))  # low: no alert
    for _ in range(20):  # repeats fold: still one alert
        queue.submit(make_event("10.0.0.7", "harm.example", Category.SELFHARM))
    wait_for(lambda: hook.received and sink.messages)
    queue.stop_sync()
    (alert,) = hook.received
    assert hook.attempts == 3  # two failures, then success
    assert (alert["category"], alert["site"], alert["client"], alert["severity"]) == (
        "selfharm",
        "harm.example",
        "10.0.0.7",
        "high",
    )
    assert alert["search_term"] == "how to" and alert["id"] >= 1
    (mail,) = sink.messages
    assert mail["To"] == "ict@school.example, dsl@school.example"
    assert "selfharm" in mail["Subject"] and f"incidents show {alert['id']}" in mail.get_payload()
    sample = registry.get_sample_value
    assert sample("filterproxy_incidents_alerts_total", {"channel": "webhook", "outcome": "sent"}) == 1
    assert sample("filterproxy_incidents_alerts_total", {"channel": "email", "outcome": "sent"}) == 1


def test_alerts_are_rate_limited_and_summarised(tmp_path: Path) -> None:
    hook = Hook()
    queue, registry = make_queue(tmp_path, {"webhook_url": hook.url, "max_per_hour": 2})
    queue.start_sync()
    for n in range(5):
        queue.submit(make_event(f"10.0.0.{n}", "harm.example", Category.EXTREMISM))
    queue.flush()
    wait_for(lambda: len(hook.received) >= 2)
    queue.stop_sync()
    assert len(hook.received) == 2
    labels = {"channel": "all", "outcome": "suppressed"}
    assert registry.get_sample_value("filterproxy_incidents_alerts_total", labels) == 3


def test_webhook_failure_is_counted(tmp_path: Path) -> None:
    hook = Hook(fail=100)
    queue, registry = make_queue(tmp_path, {"webhook_url": hook.url, "webhook_retries": 1, "webhook_backoff": 0.01})
    queue.start_sync()
    queue.submit(make_event("10.0.0.1", "iwf.example", Category.ILLEGAL))
    labels = {"channel": "webhook", "outcome": "failed"}
    wait_for(lambda: registry.get_sample_value("filterproxy_incidents_alerts_total", labels))
    queue.stop_sync()
    assert hook.attempts == 2
    assert registry.get_sample_value("filterproxy_incidents_alerts_total", labels) == 1


def test_weekly_digest_to_file_and_email(tmp_path: Path, smtp: tuple[Sink, int]) -> None:
    sink, port = smtp
    queue, _ = make_queue(
        tmp_path,
        {
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "digest_dir": "digests",
            "digest_to": ["dsl@school.example"],
        },
    )
    queue.start_sync()
    queue.submit(make_event("10.0.0.7", "harm.example", Category.SELFHARM))
    queue.submit(make_event("10.0.0.8", "bet.example", Category.GAMBLING))
    queue.flush()
    now = datetime.now(UTC)
    keeper = queue.housekeeper
    assert keeper.store.state("n1").digest_at is not None  # the first tick started the clock
    assert not keeper.digest_if_due(now)  # not a week yet
    keeper.store.set_digest_at("n1", now - timedelta(days=8))
    assert keeper.digest_if_due(now)
    wait_for(lambda: sink.messages)
    queue.stop_sync()
    (path,) = (tmp_path / "digests").iterdir()
    text = path.read_text()
    assert "Incidents: 2" in text and "selfharm" in text and "High-severity incidents:" in text
    (mail,) = sink.messages
    assert mail["To"] == "dsl@school.example" and "weekly incident digest" in mail["Subject"]
