"""The writer's view of the store's health: up, down (spooling), and when to try again."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from filterproxy.errors import IncidentError
from filterproxy.incidents.metrics import IncidentMetrics
from filterproxy.incidents.store import IncidentStore

log = logging.getLogger(__name__)


class StoreLink:
    """Opens the store lazily, runs ``on_first_contact`` once before any write, backs off on failure."""

    def __init__(self, store: IncidentStore, retry_interval: float, metrics: IncidentMetrics,
                 on_first_contact: Callable[[], None], spool_name: str) -> None:  # fmt: skip
        self.store = store
        self.retry_interval = retry_interval
        self.metrics = metrics
        self.on_first_contact = on_first_contact
        self.spool_name = spool_name
        self.up = False
        self._contacted = False
        self._retry_at = 0.0

    def ready(self) -> bool:
        """Whether the store can be written now (reconnecting when the back-off has passed)."""
        if self.up:
            return True
        if time.monotonic() < self._retry_at:
            return False
        try:
            self.store.open()
            if not self._contacted:
                self.on_first_contact()
                self._contacted = True
        except Exception as exc:
            self.failed(exc)
            return False
        self.up = True
        return True

    def failed(self, exc: BaseException) -> None:
        """Count the failure, log it once per outage, and back off."""
        self.metrics.store_errors.inc()
        if self.up or self._retry_at == 0.0:
            if isinstance(exc, IncidentError):
                log.error("incident store unavailable, spooling to %s: %s", self.spool_name, exc)
            else:
                log.exception("incident store write failed, spooling to %s", self.spool_name)
        self.up = False
        self._retry_at = time.monotonic() + self.retry_interval

    def guarded(self, chore: Callable[[], None]) -> None:
        """Run a store chore; a failure counts as the store going down."""
        try:
            chore()
        except Exception as exc:
            self.failed(exc)
