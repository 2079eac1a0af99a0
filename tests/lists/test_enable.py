"""Enabling and disabling list sources without touching sources.yaml: override file, audit, reload."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
from pathlib import Path

import pytest

from filterproxy.config.loader import load_config
from filterproxy.errors import ConfigError
from filterproxy.lists.enable import set_enabled
from filterproxy.lists.loader import load_engine, resolve_sources
from filterproxy.lists.overrides import override_path, read_overrides
from filterproxy.lists.reload import ListManager
from filterproxy.model import Action
from tests.lists.test_commands import check_json, read_audit, run
from tests.lists.test_reload import action, wait_for

COMMENTED = """# Licences are documented here: this file must never be rewritten.
sources:
  - {id: test/gambling, category: gambling, path: gambling.hosts, format: hosts, licence: MIT}  # MIT, see x
  - {id: test/social, category: social, path: social.txt}
  - {id: test/extra, category: adult, path: extra.txt, enabled: false}  # CC-BY-SA 4.0
  - {id: provider/iwf, category: illegal, path: iwf.urls, format: urls}
"""


@pytest.fixture
def commented(workdir: Path) -> Path:
    (workdir / "sources.yaml").write_text(COMMENTED)
    (workdir / "extra.txt").write_text("adult.example\n")
    return workdir



@pytest.fixture(autouse=True)
def lists_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests ask what the lists decide; the hostname model would block bet.example by its name."""
    monkeypatch.setenv("FILTERPROXY__CATEGORISE__ENABLED", "false")


def stats(workdir: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    assert run(workdir, "lists", "stats", "--json") == 0
    return {s["source"]: s for s in json.loads(capsys.readouterr().out)["sources"]}


def test_disable_and_enable_from_the_cli_keep_sources_yaml_and_are_audited(
    commented: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [bet] = check_json(commented, capsys, "bet.example")
    assert bet["action"] == "block"
    assert run(commented, "lists", "disable", "test/gambling", "--reason", "too many false positives") == 0
    assert "test/gambling: disabled" in capsys.readouterr().out
    assert (commented / "sources.yaml").read_text() == COMMENTED  # comments and licences untouched
    data = commented / "data"
    assert json.loads(override_path(data).read_text()) == {"test/gambling": False}
    [bet] = check_json(commented, capsys, "bet.example")
    assert bet["action"] == "allow"
    rows = stats(commented, capsys)
    assert (rows["test/gambling"]["enabled"], rows["test/gambling"]["overridden"]) == (False, True)
    assert (rows["test/social"]["enabled"], rows["test/social"]["overridden"]) == (True, False)
    assert (rows["test/extra"]["enabled"], rows["test/extra"]["overridden"]) == (False, False)
    assert run(commented, "lists", "stats") == 0
    text = capsys.readouterr().out
    assert "test/gambling: disabled by override" in text and "disabled (2): test/gambling, test/extra" in text

    assert run(commented, "lists", "enable", "test/gambling", "test/extra", "--reason", "back on; adult wanted") == 0
    assert json.loads(override_path(data).read_text()) == {"test/extra": True}  # gambling: back to the file
    [bet, adult] = check_json(commented, capsys, "bet.example", "adult.example")
    assert (bet["action"], adult["action"], adult["source"]) == ("block", "block", "test/extra")
    rows = stats(commented, capsys)
    assert (rows["test/extra"]["enabled"], rows["test/extra"]["overridden"]) == (True, True)
    assert rows["test/extra"]["entries"] == 1

    records = [r for r in read_audit(data / "audit.jsonl") if str(r["action"]).startswith("source.")]
    assert [(r["action"], r["entries"], r["reason"]) for r in records] == [
        ("source.disable", ["test/gambling"], "too many false positives"),
        ("source.enable", ["test/gambling", "test/extra"], "back on; adult wanted"),
    ]
    me = os.environ.get("SUDO_USER") or os.environ.get("USER") or os.environ.get("LOGNAME") or getpass.getuser()
    assert {r["user"] for r in records} == {me}
    assert (data / "reload.request").exists()


def test_unknown_ids_are_refused_with_the_nearest_and_nothing_changes(
    commented: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(commented, "lists", "disable", "test/social", "test/gambl", "--reason", "typo") == 1
    err = capsys.readouterr().err
    assert "unknown source 'test/gambl'" in err and "did you mean 'test/gambling'" in err
    assert not override_path(commented / "data").exists()
    assert not (commented / "data" / "audit.jsonl").exists()
    assert run(commented, "lists", "disable", "test/social", "--reason", "  ") == 1
    assert "reason" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # --reason is required by the parser
        run(commented, "lists", "enable", "test/social")


def test_a_repeated_change_is_recorded_as_no_change(commented: Path) -> None:
    config = load_config(commented / "filterproxy.yaml", env={})
    [first] = set_enabled(config, ["test/social"], False, "x", user="p.smith")
    [again] = set_enabled(config, ["test/social"], False, "x", user="p.smith")
    assert first.changed and not again.changed
    record = read_audit(commented / "data" / "audit.jsonl")[-1]
    assert (record["user"], record["detail"]) == ("p.smith", "changed: none")


def test_a_malformed_override_file_is_a_config_error_naming_it(commented: Path) -> None:
    config = load_config(commented / "filterproxy.yaml", env={})
    path = override_path(config.data_dir)
    path.parent.mkdir(parents=True)
    path.write_text('{"test/social": "no"}')
    with pytest.raises(ConfigError, match=r"enabled\.json"):
        resolve_sources(config)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not JSON"):
        read_overrides(config.data_dir)


def test_the_running_service_picks_the_change_up(commented: Path) -> None:
    config = load_config(commented / "filterproxy.yaml", env={"FILTERPROXY__CATEGORISE__ENABLED": "false"})

    async def scenario() -> None:
        manager = ListManager(config, load_engine(config))
        await manager.start()
        try:
            assert action(manager, "adult.example") is Action.ALLOW
            assert action(manager, "bet.example") is Action.BLOCK
            await asyncio.to_thread(set_enabled, config, ["test/extra"], True, "wanted", "ict")
            await wait_for(lambda: action(manager, "adult.example") is Action.BLOCK)
            await asyncio.to_thread(set_enabled, config, ["test/gambling"], False, "fp", "ict")
            await wait_for(lambda: action(manager, "bet.example") is Action.ALLOW)
        finally:
            await manager.stop()

    asyncio.run(scenario())


def test_an_illegal_feed_cannot_be_disabled_and_the_attempt_is_audited(tmp_path: Path) -> None:
    from filterproxy.config.loader import load_config
    from filterproxy.errors import IllegalOverrideError
    from filterproxy.lists.enable import set_enabled
    from filterproxy.lists.overrides import read_overrides

    (tmp_path / "feed.urls").write_text("abuse.example/\n")
    (tmp_path / "filterproxy.yaml").write_text(
        "data_dir: data\nlists:\n  sources:\n    - {id: provider/illegal, category: illegal, path: feed.urls,"
        " format: urls}\n")
    config = load_config(tmp_path / "filterproxy.yaml", env={})
    with pytest.raises(IllegalOverrideError, match="illegal-content feed"):
        set_enabled(config, ["provider/illegal"], False, "too slow", user="ict")
    assert read_overrides(config.data_dir) == {}
    audit = [line for line in (config.data_dir / "audit.jsonl").read_text().splitlines() if "provider/illegal" in line]
    assert audit and '"refused"' in audit[-1] and '"ict"' in audit[-1]
