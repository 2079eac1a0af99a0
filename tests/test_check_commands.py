"""`filterproxy check --json` answers through the Engine the DNS and HTTP paths share.

Lists, then the hostname model, then content findings: the same :meth:`Engine.classify`, built by
the same :func:`load_engine` as `filterproxy serve`, so a check can never disagree with what DNS
and HTTP do with the name.
"""

from __future__ import annotations

import ipaddress
import json
from datetime import datetime
from pathlib import Path

import pytest

import filterproxy.check_commands as check_commands
from filterproxy.classify.engine import Engine
from filterproxy.classify.siteverdicts import SiteFinding
from filterproxy.cli import main
from filterproxy.config.loader import load_config
from filterproxy.config.model import Config
from filterproxy.lists.loader import load_engine
from filterproxy.model import Category, Query
from tests.lists.conftest import workdir

__all__ = ["workdir"]
AT = "2026-11-23T10:00:00+00:00"
NAMES = ["bet.example", "www.casino.example", "facebook.com", "hosting.example/bad/x", "85porn.net", "bbc.co.uk",
         "203.0.113.7"]
FIELDS = ("action", "reason", "category", "group", "source", "rule", "site", "score")


def check_json(workdir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["--config", str(workdir / "filterproxy.yaml"), "check", "--json", "--at", AT, *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize("client", ["192.0.2.1", "10.9.1.1"])
def test_check_json_is_the_engines_verdict(workdir: Path, capsys: pytest.CaptureFixture[str], client: str) -> None:
    records = check_json(workdir, capsys, "--client", client, *NAMES)
    engine = load_engine(load_config(workdir / "filterproxy.yaml"))
    at = datetime.fromisoformat(AT)
    for name, record in zip(NAMES, records, strict=True):
        host, _, path = name.partition("/")
        verdict = engine.classify(Query(ipaddress.ip_address(client), host, at, f"/{path}" if path else None))
        expected = {"action": verdict.action.value, "reason": verdict.reason.value,
                    "category": verdict.category.value if verdict.category else None, "group": verdict.group,
                    "source": verdict.source, "rule": verdict.rule, "site": verdict.site, "score": verdict.score}
        assert {k: record[k] for k in FIELDS} == expected, name
    reasons = {r["name"]: r["reason"] for r in records}
    assert reasons["bet.example"] == "category" and reasons["85porn.net"] == "model"


def test_check_consults_the_engines_content_findings(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def with_finding(config: Config) -> Engine:
        engine = load_engine(config)
        engine.sites.record("pages.example", SiteFinding(Category.GAMBLING, 240.0, 0.8, ("place your bets",),
                                                         "content/gambling@1", "240 points >= 100"))
        return engine

    monkeypatch.setattr(check_commands, "load_engine", with_finding)
    [page, other] = check_json(workdir, capsys, "www.pages.example", "quiet.example")
    assert (page["action"], page["reason"], page["category"]) == ("block", "content", "gambling")
    assert (page["source"], page["site"], page["evidence"]) == ("content/gambling@1", "pages.example",
                                                                ["place your bets"])
    assert (other["action"], other["reason"]) == ("allow", "unlisted")
