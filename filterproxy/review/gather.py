"""Collecting the review's evidence from the running installation's stores and files."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

from filterproxy.config.model import Config
from filterproxy.errors import MetricsHistoryError
from filterproxy.incidents.model import Incident, IncidentFilter, Status
from filterproxy.incidents.store import open_store
from filterproxy.lists.loader import local_files, resolve_sources
from filterproxy.lists.state import read_log, read_states, state_dir
from filterproxy.review.figures import Period
from filterproxy.review.freshness import stale_now, stale_spells
from filterproxy.review.prometheus import PrometheusHistory
from filterproxy.review.report import Evidence
from filterproxy.review.sources import describe_sources, read_audit
from filterproxy.selftest.results import read_runs
from filterproxy.selftest.settings import is_probe_host

log = logging.getLogger(__name__)


def gather(config: Config, period: Period, *, stale_days: int = 7) -> Evidence:
    """Read every source of evidence for ``period``; what cannot be read becomes a note in the report."""
    notes: list[str] = []
    incidents, triage = _incidents(config, period)
    probes = [i for i in incidents if is_probe_host(i.host, config.selftest.probe_domain)]
    if probes:  # recorded before probes carried their token (or by a self-test with another data dir)
        incidents = [i for i in incidents if not is_probe_host(i.host, config.selftest.probe_domain)]
        notes.append(f"{len(probes)} incident(s) for self-test probe names ({config.selftest.probe_domain}) "
                     "are left out of every table and chart.")
    audit = read_audit(local_files(config).audit_log, period.since, period.until)
    if audit.bad_lines:
        notes.append(f"{audit.bad_lines} line(s) of the audit log could not be read and are not counted.")
    runs, bad_runs = read_runs(config.data_dir)
    if bad_runs:
        notes.append(f"{bad_runs} self-test record(s) could not be read.")
    evidence = Evidence(
        period=period,
        incidents=incidents,
        triage_seconds=triage,
        audit=audit.items,
        runs=[r for r in runs if period.since <= r.at < period.until],
        sources=[],
        school=config.block.school_name,
        stale_days=stale_days,
        notes=notes,
    )
    _sources(config, evidence)
    if config.metrics.prometheus_url:
        _history(config.metrics.prometheus_url, evidence)
    return evidence


def _sources(config: Config, evidence: Evidence) -> None:
    """The sources with their download state (age of a downloaded list: since last confirmed current),
    and when downloaded lists were stale during the period and now."""
    now = time.time()
    sources = resolve_sources(config)
    states = read_states(state_dir(config.data_dir), sources)
    described = describe_sources(sources, now)
    for number, info in enumerate(described):
        state = states.get(info.id)
        if state is not None:
            age = state.age(now)
            described[number] = replace(info, download=state.status, last_error=state.last_error,
                                        age_days=None if age is None else age / 86400)
    evidence.sources = described
    max_age = evidence.stale_days * 86400.0
    evidence.stale_spells = stale_spells(read_log(state_dir(config.data_dir)), states, evidence.period.since,
                                         evidence.period.until, max_age, now)
    evidence.stale_now = stale_now(states.values(), max_age, now)


def _incidents(config: Config, period: Period) -> tuple[list[Incident], list[float]]:
    store = open_store(config.incidents, config.data_dir)
    try:
        found = store.query(IncidentFilter(since=period.since, until=period.until))
        incidents = [i for i in found if period.since <= i.first_seen < period.until]
        # query() leaves the audit trail out; the review needs it for the "who acted" evidence
        incidents = [store.get(i.id) if i.status is not Status.NEW else i for i in incidents]
        triage = [seconds for _, _, seconds in store.time_to_triage(period.since, period.until)]
    finally:
        store.close()
    return incidents, triage


def _history(url: str, evidence: Evidence) -> None:
    client = PrometheusHistory(url)
    try:
        evidence.history = client.blocks_by_month(evidence.period.months(), evidence.period.until)
    except MetricsHistoryError as exc:
        log.warning("metrics history unavailable: %s", exc)
        evidence.notes.append(f"Metrics history from Prometheus unavailable: {exc}")
    finally:
        client.close()
