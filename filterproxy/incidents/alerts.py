"""Immediate alerts for high-severity incidents: a JSON webhook (retried) and email (SMTP).

The writer hands alerts to :meth:`Notifier.notify` (non-blocking, bounded); a thread sends
them, rate-limited to ``max_per_hour``; alerts over the limit are counted and summarised in
the next one that goes out.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import smtplib
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from filterproxy.incidents.codec import stamp
from filterproxy.incidents.fold import Folded
from filterproxy.incidents.metrics import IncidentMetrics
from filterproxy.incidents.settings import SEVERITIES, AlertSettings
from filterproxy.incidents.who import age

log = logging.getLogger(__name__)
SEVERITY_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(SEVERITIES)}


def send_mail(settings: AlertSettings, to: list[str], subject: str, body: str) -> None:
    """Send one plain-text email; raises OSError / smtplib.SMTPException."""
    if not settings.smtp_host or not to:
        return
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = settings.mail_from, ", ".join(to), subject
    msg.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user and settings.smtp_password_file:
            smtp.login(settings.smtp_user, settings.smtp_password_file.read_text().strip())
        smtp.send_message(msg)


def alert_text(alert: dict[str, Any]) -> tuple[str, str]:
    subject = f"[filterproxy] {alert['severity']} incident #{alert['id']}: {alert['category']} on {alert['site']}"
    lines = [f"{key}: {value}" for key, value in alert.items() if value not in (None, "")]
    lines.append("")
    lines.append(f"Triage: filterproxy incidents show {alert['id']}")
    return subject, "\n".join(lines)


class Notifier:
    """Sends alerts from its own thread so a slow webhook never holds up the writer."""

    def __init__(self, settings: AlertSettings, metrics: IncidentMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._queue: queue.Queue[dict[str, Any] | Callable[[], None] | None] = queue.Queue(maxsize=1000)
        self._sent: deque[float] = deque()
        self._suppressed = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def wanted(self, severity: str) -> bool:
        enabled = bool(self.settings.webhook_url or (self.settings.smtp_host and self.settings.alert_to))
        return enabled and SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK[self.settings.min_severity]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="incident-alerts", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Send what is queued (one attempt each once stopping), then end the thread."""
        self._stopping.set()
        if self._thread is not None:
            with contextlib.suppress(queue.Full):
                self._queue.put(None, timeout=timeout)
            self._thread.join(timeout)

    def notify(self, alert: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.metrics.alerts.labels("all", "dropped").inc()

    def run_job(self, job: Callable[[], None]) -> None:
        """Run slow delivery work (the digest email) on the alert thread."""
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self.metrics.alerts.labels("digest", "dropped").inc()

    def _run(self) -> None:
        while (alert := self._queue.get()) is not None:
            if callable(alert):
                alert()
                continue
            if not self._allow():
                self._suppressed += 1
                self.metrics.alerts.labels("all", "suppressed").inc()
                continue
            if self._suppressed:
                alert = {**alert, "suppressed_since_last": self._suppressed}
                self._suppressed = 0
            self._deliver(alert)

    def _allow(self) -> bool:
        now = time.monotonic()
        while self._sent and now - self._sent[0] > 3600:
            self._sent.popleft()
        if len(self._sent) >= self.settings.max_per_hour:
            return False
        self._sent.append(now)
        return True

    def _deliver(self, alert: dict[str, Any]) -> None:
        if self.settings.webhook_url:
            ok = self._post(self.settings.webhook_url, alert)
            self.metrics.alerts.labels("webhook", "sent" if ok else "failed").inc()
        if self.settings.smtp_host and self.settings.alert_to:
            try:
                send_mail(self.settings, self.settings.alert_to, *alert_text(alert))
                self.metrics.alerts.labels("email", "sent").inc()
            except (OSError, smtplib.SMTPException) as exc:
                log.error("incident alert email for #%s failed: %s", alert.get("id"), exc)
                self.metrics.alerts.labels("email", "failed").inc()

    def _post(self, url: str, alert: dict[str, Any]) -> bool:
        body = json.dumps(alert).encode()
        delay = self.settings.webhook_backoff
        for attempt in range(self.settings.webhook_retries + 1):
            request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    if 200 <= response.status < 300:
                        return True
            except (urllib.error.URLError, OSError) as exc:
                log.warning("incident webhook attempt %s failed: %s", attempt + 1, exc)
            if self._stopping.is_set() or attempt == self.settings.webhook_retries:
                break
            time.sleep(delay)
            delay *= 2
        log.error("incident webhook for #%s failed after retries", alert.get("id"))
        return False


def alert_of(incident_id: int, group: Folded, node: str) -> dict[str, Any]:
    """The JSON body of an immediate alert."""
    e, v = group.event, group.event.verdict
    return {
        "id": incident_id,
        "reference": e.reference,
        "severity": group.severity,
        "category": v.what,
        "site": v.site or v.host,
        "host": v.host,
        "url": e.url,
        "search_term": e.search_term,
        "client": e.client,
        "device": group.device,
        "user": e.user,
        "identified_by": e.identified_by,  # radius | proxy_auth | inventory | dhcp
        "identified_at": stamp(e.identified_at) if e.identified_at else None,
        "identified_age": age(e.identified_at, group.first_at) if e.user else None,  # before the first block
        "group": v.group,
        "protocol": e.protocol,
        "first_seen": stamp(group.first_at),
        "count": group.count,
        "node": node,
    }
