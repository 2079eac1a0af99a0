"""Unblock requests: the store, approvals through the audited allow path, the illegal guard, expiry, groups."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from filterproxy.config.loader import load_config
from filterproxy.config.model import Config
from filterproxy.console import decisions
from filterproxy.console.unblock import RequestStatus, RequestStore, Scope, UnblockRequest
from filterproxy.errors import IllegalOverrideError, UnblockRequestError
from filterproxy.lists.loader import load_classifier
from filterproxy.model import Action, Query
from tests.console.conftest import make_config

POLICY = """policy:
  default_group: pupils
  groups:
    pupils: {networks: ["10.20.0.0/16"]}
    staff: {networks: ["10.10.0.0/16"]}
"""


@pytest.fixture
def config(tmp_path: Path) -> Config:
    make_config(tmp_path)
    path = tmp_path / "filterproxy.yaml"
    path.write_text(path.read_text() + POLICY)
    return load_config(path)


def ask(store: RequestStore, site: str, reference: str = "AAA-BBB-CCC", group: str = "pupils") -> UnblockRequest:
    return store.create(reference=reference, site=site, url=f"http://{site}/", category="gambling", group=group,
                        who="pupil1 laptop-7", client="10.20.0.5", reason="history homework on betting laws")


def verdict(config: Config, site: str, client: str = "10.20.0.5") -> Action:
    return load_classifier(config).classify(Query(ipaddress.ip_address(client), site, datetime.now(UTC))).action


def audit(config: Config) -> list[dict[str, object]]:
    return [json.loads(x) for x in (config.data_dir / "audit.jsonl").read_text().splitlines()]


def test_store_refuses_empty_reasons_and_duplicates(config: Config) -> None:
    store = RequestStore(config.data_dir)
    with pytest.raises(UnblockRequestError, match="why"):
        store.create(reference="R", site="s", url="", category="", group="", who="", client="", reason="  ")
    made = ask(store, "bet.example")
    assert made.status is RequestStatus.PENDING and made.reference == "AAA-BBB-CCC"
    with pytest.raises(UnblockRequestError, match="already waiting"):
        ask(store, "bet.example")
    assert store.by_reference("aaa-bbb-ccc")[0].id == made.id
    public = made.to_json(public=True)
    assert "who" not in public and "client" not in public and "reason" not in public


def test_permanent_approval_allows_through_the_audited_path(config: Config) -> None:
    store = RequestStore(config.data_dir)
    assert verdict(config, "bet.example") is Action.BLOCK
    made = ask(store, "bet.example")
    done = decisions.approve(config, store, made.id, "dsl", "fine for the project", Scope.PERMANENT)
    assert done.status is RequestStatus.APPROVED and done.decided_by == "dsl" and done.added
    assert verdict(config, "bet.example") is Action.ALLOW
    records = audit(config)
    assert any(r["action"] == "allow" and r["user"] == "dsl" and r["entries"] == ["bet.example"] for r in records)
    assert any(r["action"] == "console.request.approved" for r in records)
    with pytest.raises(UnblockRequestError, match="approved already"):
        decisions.decline(config, store, made.id, "dsl", "changed my mind")


def test_illegal_sites_are_never_approvable(config: Config) -> None:
    store = RequestStore(config.data_dir)
    made = ask(store, "abuse.example")
    with pytest.raises(IllegalOverrideError):
        decisions.approve(config, store, made.id, "ict", "", Scope.PERMANENT)
    assert store.get(made.id).status is RequestStatus.DECLINED
    assert verdict(config, "abuse.example") is Action.BLOCK
    assert any(r["action"] == "refused" and r["user"] == "ict" for r in audit(config))


def test_temporary_approval_expires_and_undoes_only_its_own_change(config: Config) -> None:
    store = RequestStore(config.data_dir)
    made = ask(store, "bet.example")
    done = decisions.approve(config, store, made.id, "ict", "one lesson", Scope.HOURS, hours=2)
    assert done.expires_at is not None and timedelta(hours=1.9) < done.expires_at - datetime.now(UTC)
    assert verdict(config, "bet.example") is Action.ALLOW
    assert decisions.expire_due(config, store) == []
    expired = decisions.expire_due(config, store, datetime.now(UTC) + timedelta(hours=3))
    assert [r.id for r in expired] == [made.id] and store.get(made.id).status is RequestStatus.EXPIRED
    assert verdict(config, "bet.example") is Action.BLOCK
    with pytest.raises(UnblockRequestError, match="hours"):
        decisions.approve(config, store, ask(store, "adult.example", "R2").id, "ict", "", Scope.HOURS, hours=0)


def test_group_approval_allows_that_group_only(config: Config) -> None:
    store = RequestStore(config.data_dir)
    made = ask(store, "bet.example", group="staff")
    done = decisions.approve(config, store, made.id, "ict", "staff research", Scope.GROUP)
    assert done.scope_group == "staff"
    assert verdict(config, "bet.example", "10.10.0.9") is Action.ALLOW
    assert verdict(config, "bet.example", "10.20.0.5") is Action.BLOCK
    with pytest.raises(UnblockRequestError, match="unknown group"):
        decisions.approve(config, store, ask(store, "adult.example", "R3").id, "ict", "", Scope.GROUP, group="x")


def test_decline_needs_a_note(config: Config) -> None:
    store = RequestStore(config.data_dir)
    made = ask(store, "bet.example")
    with pytest.raises(UnblockRequestError, match="note"):
        decisions.decline(config, store, made.id, "dsl", " ")
    assert decisions.decline(config, store, made.id, "dsl", "not for school").note == "not for school"
    assert verdict(config, "bet.example") is Action.BLOCK
