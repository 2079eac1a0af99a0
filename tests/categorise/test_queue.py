"""The review queue: automatic verdicts grouped by site; confirm denies, reject allows, both audited."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from filterproxy.categorise.queue import CONFIRMED, REJECTED, confirm, reject, review_queue
from filterproxy.config.model import Config
from filterproxy.errors import ConfigError
from filterproxy.incidents.event import BlockEvent, new_reference
from filterproxy.incidents.fold import fold
from filterproxy.incidents.model import IncidentFilter
from filterproxy.incidents.store import open_store
from filterproxy.lists.loader import load_classifier, local_files
from filterproxy.model import Action, Category, Query, Reason, Verdict
from filterproxy.review.figures import automatic
from filterproxy.review.sources import read_audit

NOW = datetime.now(UTC)


def event(host: str, category: Category, reason: Reason, minutes: int, action: Action = Action.BLOCK) -> BlockEvent:
    site = host.split(".", 1)[-1] if host.count(".") > 1 else host
    source = "model/hm1-test" if reason is Reason.MODEL else f"starter/{category.value}"
    rule = "score 0.99 >= 0.95: porn, xxx" if reason is Reason.MODEL else site
    verdict = Verdict(action, reason, "pupils", host, category, source, rule, site, (), 0.99, ("porn", "xxx"))
    return BlockEvent(NOW - timedelta(minutes=minutes), "dns", "10.0.0.7", verdict, new_reference(), qtype="A")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    config = Config(data_dir=tmp_path / "var")
    events = [
        event("www.hotclips.example", Category.ADULT, Reason.MODEL, 50),
        event("cdn.hotclips.example", Category.ADULT, Reason.MODEL, 40),
        event("spins.example", Category.GAMBLING, Reason.MODEL, 30, Action.LOG),
        event("listed.example", Category.ADULT, Reason.CATEGORY, 20),  # a list decided: not for review
    ]
    store = open_store(config.incidents, config.data_dir)
    store.write(fold(list(enumerate(events)), 1, lambda e: "low", lambda c: None), "node1", len(events), len(events))
    store.close()
    return config


def test_queue_groups_automatic_verdicts_by_site(config: Config) -> None:
    items = review_queue(config)
    assert [(i.site, i.verdict, i.category, i.reason) for i in items] == [
        ("hotclips.example", "block", "adult", "model"),
        ("spins.example", "log", "gambling", "model"),
    ]
    assert items[0].incidents == 2 and sorted(items[0].hosts) == ["cdn.hotclips.example", "www.hotclips.example"]
    assert items[0].evidence == "score 0.99 >= 0.95: porn, xxx"


def test_confirm_adds_the_site_to_the_deny_list_with_an_audited_reason(config: Config) -> None:
    assert confirm(config, "hotclips.example", "checked: adult video site") == ["hotclips.example"]
    assert [i.site for i in review_queue(config)] == ["spins.example"]  # decided: off the queue
    verdict = load_classifier(config).classify(Query(ipaddress.ip_address("10.0.0.7"), "www.hotclips.example", NOW))
    assert (verdict.reason, verdict.category) == (Reason.LOCAL_DENY, Category.ADULT)
    [record] = [json.loads(line) for line in local_files(config).audit_log.read_text().splitlines()]
    assert (record["action"], record["detail"]) == ("add", CONFIRMED)
    assert record["reason"] == "checked: adult video site"


def test_reject_adds_the_site_to_the_allow_list_and_the_review_counts_it(config: Config) -> None:
    assert reject(config, "spins.example", "a spinning-class gym") == ["spins.example"]
    assert [i.site for i in review_queue(config)] == ["hotclips.example"]
    verdict = load_classifier(config).classify(Query(ipaddress.ip_address("10.0.0.7"), "spins.example", NOW))
    assert verdict.reason is Reason.LOCAL_ALLOW
    audit = read_audit(local_files(config).audit_log, NOW - timedelta(days=1), NOW + timedelta(days=1)).items
    assert audit[0].detail == REJECTED
    store = open_store(config.incidents, config.data_dir)

    incidents = store.query(IncidentFilter())
    store.close()
    figures = automatic(audit, incidents)
    assert figures["rejected"] == 1 and figures["confirmed"] == 0
    assert figures["blocks"] == 2 and figures["share"] == pytest.approx(2 / 3, abs=1e-4)  # 2 of 3 block incidents


def test_confirm_needs_a_category_for_a_site_not_in_the_queue(config: Config) -> None:
    with pytest.raises(ConfigError, match="--category"):
        confirm(config, "unknown.example", "because")
    assert confirm(config, "unknown.example", "because", Category.GAMBLING) == ["unknown.example"]


def test_a_reason_is_required(config: Config) -> None:
    with pytest.raises(ConfigError, match="reason"):
        reject(config, "spins.example", " ")
