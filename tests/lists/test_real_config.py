"""A configuration pointing at the real shared lists, exercised through the CLI as an ICT manager would."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import yaml

from filterproxy.cli import main
from tests import shared_lists

pytestmark = pytest.mark.skipif(not shared_lists.available(), reason="../shared/data/blocklists not present")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real")
    sources = [
        {"id": s.id, "category": s.category.value, "path": str(s.path), "format": s.format,
         "max_bad_share": s.max_bad_share}
        for s in shared_lists.policy_sources()
    ]
    (root / "iwf.txt").write_text("pornhub.com/view_video.php\n")
    sources.append({"id": "provider/iwf", "category": "illegal", "path": str(root / "iwf.txt"), "format": "urls"})
    (root / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}))
    (root / "filterproxy.yaml").write_text(yaml.safe_dump({
        "data_dir": "data",
        "lists": {"sources_file": "sources.yaml"},
        "policy": {"groups": {
            "pupils": {"networks": ["10.0.0.0/8"]},
            "sixthform": {"networks": ["10.6.0.0/16"], "categories": {"social": {"action": "block", "windows": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "12:00", "end": "13:00",
                 "action": "allow"}]}}},
        }},
    }))
    return root / "filterproxy.yaml"


def check(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["--config", str(config), "check", "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def first_domain(rel: str) -> str:
    with gzip.open(shared_lists.SHARED / rel, "rt") as handle:
        for line in handle:
            text = line.split("#", 1)[0].split()
            if text and "." in text[-1] and text[-1] != "0.0.0.0":
                return text[-1]
    raise AssertionError(rel)


def test_real_lists_through_the_cli(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drugs = first_domain("blocklistproject/drugs.hosts.gz")  # a hosts-format list
    hate = first_domain("hategroup-dnsbl/hate.domains.gz")
    results = check(config, capsys, f"Deep.Sub.{drugs.upper()}.", hate, "www.bbc.co.uk")
    assert [(r["action"], r["category"]) for r in results] == [("block", "drugs"), ("block", "hate"),
                                                               ("allow", None)]
    assert results[0]["source"] == "blocklistproject/drugs" and results[0]["line"]  # file and line named
    assert str(results[0]["file"]).endswith("drugs.hosts.gz")


def test_ut1_url_entry_names_its_file(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with gzip.open(shared_lists.SHARED / "ut1/gambling.urls.gz", "rt") as handle:
        entry = next(line.strip() for line in handle if "/" in line and not line.startswith("#"))
    [verdict] = check(config, capsys, "http://" + entry + "deeper/page.html")
    assert (verdict["action"], verdict["category"]) == ("block", "gambling")
    assert str(verdict["file"]).endswith("gambling.urls.gz")


def test_illegal_url_beats_allow_and_refuses_allowing(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "allow", "pornhub.com", "--reason", "test"]) == 0
    [page, home] = check(config, capsys, "https://www.pornhub.com/view_video.php?x=1", "pornhub.com")
    assert (page["action"], page["reason"]) == ("block", "illegal")
    assert (home["action"], home["reason"]) == ("allow", "local_allow")


def test_group_and_schedule_selection(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    social = first_domain("sinfonietta/social.hosts.gz")
    at_nine = "2026-11-23T09:00:00+00:00"
    at_noon = "2026-11-23T12:15:00+00:00"
    [pupil_noon] = check(config, capsys, "--client", "10.1.1.1", "--at", at_noon, social)
    [sixth_nine] = check(config, capsys, "--client", "10.6.1.1", "--at", at_nine, social)
    [sixth_noon] = check(config, capsys, "--client", "10.6.1.1", "--at", at_noon, social)
    assert (pupil_noon["action"], pupil_noon["group"]) == ("block", "pupils")
    assert (sixth_nine["action"], sixth_noon["action"], sixth_noon["group"]) == ("block", "allow", "sixthform")
