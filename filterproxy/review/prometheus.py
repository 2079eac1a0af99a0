"""Metrics history for the review, from the Prometheus HTTP API (``metrics.prometheus_url``).

Incidents fold repeats and can be purged; Prometheus counted every blocked request, so the
review shows both. Each month is one instant query of ``increase(...[<month>])`` evaluated at
the month's end; a month Prometheus has no data for is reported as missing, not as zero.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from filterproxy.errors import MetricsHistoryError

log = logging.getLogger(__name__)

BLOCKS_BY_CATEGORY = (
    'sum by (category) (increase({{__name__=~"filterproxy_(dns|http)_blocks_total"}}[{window}]))'
)


class PrometheusHistory:
    """Instant queries against one Prometheus server."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def close(self) -> None:
        """Nothing to release: each query is one short request (kept for callers' symmetry)."""

    def query(self, expr: str, at: datetime) -> list[dict[str, Any]]:
        """The ``result`` list of an instant query; raise :class:`MetricsHistoryError` on any failure."""
        params = urllib.parse.urlencode({"query": expr, "time": at.timestamp()})
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/query?{params}", timeout=self.timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:  # Prometheus answers 4xx/5xx with a JSON error body
            body = _error_body(exc)
        except (OSError, ValueError) as exc:
            raise MetricsHistoryError(f"{self.url}: {exc}") from exc
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body if isinstance(body, dict) else {}
            raise MetricsHistoryError(f"{self.url}: {error.get('errorType')}: {error.get('error')}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def blocks_by_month(self, months: list[str], until: datetime) -> dict[str, list[float | None]]:
        """``{category: [blocked requests per month or None]}`` from the block counters."""
        table: dict[str, list[float | None]] = {}
        for slot, month in enumerate(months):
            start, end = _month_bounds(month)
            end = min(end, until, datetime.now(UTC))
            if end <= start:
                continue
            window = f"{int((end - start).total_seconds())}s"
            for series in self.query(BLOCKS_BY_CATEGORY.format(window=window), end):
                category = series["metric"].get("category", "(none)")
                row = table.setdefault(category, [None] * len(months))
                row[slot] = round(float(series["value"][1]))
        return dict(sorted(table.items()))


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    year, mon = (int(x) for x in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=UTC)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _error_body(exc: urllib.error.HTTPError) -> Any:
    try:
        return json.load(exc)
    except ValueError:
        return {"errorType": f"HTTP {exc.code}", "error": exc.reason}
