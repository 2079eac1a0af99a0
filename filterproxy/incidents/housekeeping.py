"""Hourly chores of the writer: retention purging and the weekly digest."""

from __future__ import annotations

import logging
import smtplib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from filterproxy.incidents.alerts import Notifier, send_mail
from filterproxy.incidents.digest import build_digest, write_digest
from filterproxy.incidents.metrics import IncidentMetrics
from filterproxy.incidents.settings import IncidentSettings
from filterproxy.incidents.store import IncidentStore

log = logging.getLogger(__name__)
EVERY = 3600.0


class Housekeeper:
    """Runs on the writer thread (it shares the writer's store connection)."""

    def __init__(
        self,
        settings: IncidentSettings,
        store: IncidentStore,
        node: str,
        notifier: Notifier,
        metrics: IncidentMetrics,
        data_dir: Path,
    ) -> None:
        self.settings, self.store, self.node = settings, store, node
        self.notifier, self.metrics, self.data_dir = notifier, metrics, data_dir
        self._last = -EVERY

    def tick(self) -> None:
        """Do the chores if an hour has passed since the last time (raises store errors)."""
        if time.monotonic() - self._last < EVERY:
            return
        self._last = time.monotonic()
        now = datetime.now(UTC)
        purged = self.store.purge(now - timedelta(days=self.settings.retention_days))
        if purged:
            log.info("retention: removed client data from %s incident(s)", purged)
        self.digest_if_due(now)

    def digest_if_due(self, now: datetime) -> bool:
        alerts = self.settings.alerts
        if alerts.digest_dir is None and not (alerts.smtp_host and alerts.digest_to):
            return False
        last = self.store.state(self.node).digest_at
        if last is None:  # the first period starts now
            self.store.set_digest_at(self.node, now)
            return False
        if now - last < timedelta(days=alerts.digest_interval_days):
            return False
        self.send_digest(last, now)
        self.store.set_digest_at(self.node, now)
        return True

    def send_digest(self, since: datetime, until: datetime) -> None:
        alerts = self.settings.alerts
        subject, body = build_digest(self.store, since, until)
        if alerts.digest_dir is not None:
            path = write_digest(self.data_dir / alerts.digest_dir, until, body)
            log.info("weekly digest written to %s", path)
            self.metrics.alerts.labels("digest", "sent").inc()
        if alerts.smtp_host and alerts.digest_to:
            self.notifier.run_job(lambda: self._mail(subject, body))

    def _mail(self, subject: str, body: str) -> None:
        try:
            send_mail(self.settings.alerts, self.settings.alerts.digest_to, subject, body)
            self.metrics.alerts.labels("digest", "sent").inc()
        except (OSError, smtplib.SMTPException) as exc:
            log.error("weekly digest email failed: %s", exc)
            self.metrics.alerts.labels("digest", "failed").inc()
