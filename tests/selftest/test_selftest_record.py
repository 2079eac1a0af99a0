"""Probes leave the record clean: no incident, digest line, review row or block count; reachable means reachable.

The real resolver (shipped config, starter lists, incident queue, SQLite) answers the real
self-test; a pupil's query for the same names, or one with a forged or replayed token, is still
recorded, so a pupil cannot hide traffic by dressing it up as a probe.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dns.edns
import dns.message
import dns.query

from filterproxy.incidents.digest import build_digest
from filterproxy.incidents.model import IncidentFilter
from filterproxy.incidents.store import open_store
from filterproxy.review.figures import Period, blocks_by_month
from filterproxy.review.gather import gather
from filterproxy.selftest.marker import DNS_OPTION, load_or_create_key, make_token
from filterproxy.selftest.runner import run_group
from filterproxy.selftest.settings import SelftestSettings
from tests.selftest.service import Service


def ask(service: Service, name: str, token: bytes | None = None) -> dns.message.Message:
    options = [dns.edns.GenericOption(dns.edns.OptionType.make(DNS_OPTION), token)] if token is not None else []
    query = dns.message.make_query(name, "A", use_edns=0, options=options)
    return dns.query.udp(query, "127.0.0.1", port=service.dns_port, timeout=3)


def recorded_hosts(service: Service, expected: set[str], timeout: float = 15.0) -> set[str]:
    """The incident hosts once ``expected`` are all stored (the queue writes in batches, in order)."""
    deadline = time.monotonic() + timeout
    while True:
        store = open_store(service.config.incidents, service.config.data_dir)
        try:
            hosts = {i.host for i in store.query(IncidentFilter())}
        finally:
            store.close()
        if expected <= hosts or time.monotonic() > deadline:
            return hosts
        time.sleep(0.2)


def sample(service: Service, name: str, labels: dict[str, str]) -> float:
    return service.registry.get_sample_value(name, labels) or 0.0


def test_probes_never_become_incidents_digest_lines_review_rows_or_block_counts(start_service: Any) -> None:
    service = start_service()
    run = run_group(service.config, SelftestSettings(educational=["www.bbc.co.uk"]), "pupils")
    assert run.passed, run.failures
    assert sample(service, "filterproxy_dns_probe_blocks_total", {"category": "extremism", "group": "pupils"}) == 1
    # what a pupil can send: the probe name bare, a made-up token, a real token for another name, an old one
    key = load_or_create_key(service.config.data_dir)
    ask(service, "selfharm.filterproxy-selftest.example")
    ask(service, "adult.filterproxy-selftest.example", b"\x00" * 24)
    ask(service, "gambling.filterproxy-selftest.example", make_token(key, "www.bbc.co.uk"))
    ask(service, "hate.filterproxy-selftest.example", make_token(key, "hate.filterproxy-selftest.example",
                                                                  time.time() - 3600))
    # a real token over TCP is a probe as well
    marked = dns.message.make_query("violence.filterproxy-selftest.example", "A", use_edns=0, options=[
        dns.edns.GenericOption(dns.edns.OptionType.make(DNS_OPTION),
                               make_token(key, "violence.filterproxy-selftest.example"))])
    dns.query.tcp(marked, "127.0.0.1", port=service.dns_port, timeout=3)
    ask(service, "bet365.com")  # and an ordinary pupil block, last: the queue writes in order
    pupil = {f"{c}.filterproxy-selftest.example" for c in ("selfharm", "adult", "gambling", "hate")}
    pupil.add("bet365.com")
    assert recorded_hosts(service, pupil) == pupil  # not one of the 20 probes
    assert sample(service, "filterproxy_dns_blocks_total", {"category": "extremism", "group": "pupils"}) == 0
    assert sample(service, "filterproxy_dns_blocks_total", {"category": "selfharm", "group": "pupils"}) == 1
    assert sample(service, "filterproxy_dns_probe_blocks_total", {"category": "selfharm", "group": "pupils"}) == 1
    assert sample(service, "filterproxy_dns_probe_blocks_total", {"category": "violence", "group": "pupils"}) == 2

    today = datetime.now(UTC)
    store = open_store(service.config.incidents, service.config.data_dir)
    try:
        _, digest = build_digest(store, today - timedelta(days=1), today + timedelta(days=1))
    finally:
        store.close()
    assert "extremism" not in digest and "Incidents: 5 " in digest
    evidence = gather(service.config, Period(date.today() - timedelta(days=1), date.today() + timedelta(days=1)))
    table = blocks_by_month(evidence.incidents, evidence.period.months())
    assert set(table) == {"gambling"}  # bet365.com only: the probe-name incidents are left out
    assert any("self-test probe names" in note for note in evidence.notes)


def test_a_reachable_probe_needs_a_real_answer(start_service: Any) -> None:
    service = start_service()
    settings = SelftestSettings(categories=[], educational=["www.bbc.co.uk", "gone.nx.example"])
    run = run_group(service.config, settings, "pupils")
    assert [(p.target, p.observed) for p in run.probes] == [
        ("www.bbc.co.uk", "allowed"), ("gone.nx.example", "unreachable")
    ]
    assert not run.passed and "NXDOMAIN" in run.failures[0].detail


def test_a_reachable_probe_against_a_dead_upstream_fails(start_service: Any) -> None:
    service = start_service()
    service.loop.run(service.upstream.stop())  # the internet is gone
    run = run_group(service.config, SelftestSettings(educational=["www.khanacademy.org"], timeout=5), "pupils")
    educational = [p for p in run.probes if p.kind == "educational"]
    assert [p.observed for p in educational] == ["error"] and "SERVFAIL" in educational[0].detail
    assert not run.passed
    assert all(p.ok for p in run.probes if p.kind == "category")  # blocking needs no upstream
