"""Self-test results: one JSON line per run in ``<data_dir>/selftest/results.jsonl``.

The annual review reads the history; the metrics collector reads the newest run per group.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from filterproxy.files import append_line

Kind = Literal["category", "educational", "custom"]
#: allowed: a real answer (an address, HTTP 2xx/3xx); unreachable: not blocked, but NXDOMAIN,
#: no address or an HTTP error status; error: no usable reply (SERVFAIL, timeout, refused)
Observed = Literal["blocked", "allowed", "unreachable", "error"]
RESULTS_FILE = Path("selftest") / "results.jsonl"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe through one path (dns or http)."""

    kind: Kind
    category: str | None  # the category a blocking probe tests; None for educational sites
    target: str  # the name or URL probed
    path: Literal["dns", "http"]
    expected: Literal["blocked", "allowed"]
    observed: Observed
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.observed == self.expected


@dataclass(frozen=True, slots=True)
class Run:
    """One `filterproxy selftest` run for one group."""

    group: str
    at: datetime
    probes: tuple[ProbeResult, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return bool(self.probes) and all(p.ok for p in self.probes)

    @property
    def failures(self) -> list[ProbeResult]:
        return [p for p in self.probes if not p.ok]

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "at": self.at.isoformat(timespec="seconds"),
            "passed": self.passed,
            "probes": [{**asdict(p), "ok": p.ok} for p in self.probes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        probes = tuple(
            ProbeResult(p["kind"], p.get("category"), p["target"], p["path"], p["expected"], p["observed"],
                        p.get("detail", ""))
            for p in data["probes"]
        )
        at = datetime.fromisoformat(data["at"])
        return cls(str(data["group"]), at if at.tzinfo else at.replace(tzinfo=UTC), probes)


def results_path(data_dir: Path) -> Path:
    return data_dir / RESULTS_FILE


def append_run(data_dir: Path, run: Run) -> Path:
    """Append one run (fsync'd: it is evidence for the annual review)."""
    path = results_path(data_dir)
    append_line(path, json.dumps(run.to_json()))
    return path


def read_runs(data_dir: Path) -> tuple[list[Run], int]:
    """All stored runs, oldest first, and the number of unreadable lines."""
    path = results_path(data_dir)
    runs: list[Run] = []
    bad = 0
    if not path.exists():
        return runs, bad
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            runs.append(Run.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            bad += 1
    return runs, bad


def latest_per_group(runs: list[Run]) -> dict[str, Run]:
    latest: dict[str, Run] = {}
    for run in runs:
        if run.group not in latest or run.at >= latest[run.group].at:
            latest[run.group] = run
    return latest
