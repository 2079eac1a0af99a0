"""Reloads in a running service: changed files are picked up, a bad list keeps the old index."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from filterproxy.config.loader import load_config
from filterproxy.config.model import Config
from filterproxy.lists import editing
from filterproxy.lists.loader import last_good_dir, load_engine
from filterproxy.lists.reload import ListManager, ReloadResult
from filterproxy.metrics.lists import ListMetrics
from filterproxy.model import Action, Category, Query
from filterproxy.service import list_observer

CLIENT = ipaddress.ip_address("10.0.0.1")


def action(manager: ListManager, host: str) -> Action:
    return manager.engine.classify(Query(CLIENT, host, datetime.now(UTC))).action


async def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def watch_until_blocked(config: Config, edit: Callable[[], None], before: str, after: str) -> list[ReloadResult]:
    """Start a watching ListManager, check ``before`` is allowed, ``edit``, wait until ``after`` is
    blocked; the reload results its observer saw."""
    results: list[ReloadResult] = []

    async def scenario() -> None:
        manager = ListManager(config, load_engine(config), [lambda r, e: results.append(r)])
        await manager.start()
        try:
            assert action(manager, before) is not Action.BLOCK  # allowed (or only logged by the hostname model)
            edit()
            await wait_for(lambda: action(manager, after) is Action.BLOCK)
        finally:
            await manager.stop()

    asyncio.run(scenario())
    return results


def test_local_edit_takes_effect_without_restart(workdir: Path) -> None:
    config = load_config(workdir / "filterproxy.yaml", env={})

    def edit() -> None:
        editing.edit(config, "add", ["new.example"], "test", Category.ADULT)

    results = watch_until_blocked(config, edit, "new.example", "www.new.example")
    assert results and results[-1].ok and not results[-1].rebuilt


def test_changed_source_is_rebuilt_in_a_child_and_swapped(workdir: Path) -> None:
    config = load_config(workdir / "filterproxy.yaml", env={})

    async def scenario() -> None:
        engine = load_engine(config)
        manager = ListManager(config, engine)
        generation = engine.generation
        (workdir / "social.txt").write_text("facebook.com\ninstagram.com\ntiktok.com\n")
        result = await manager.reload()
        assert result.ok and result.rebuilt, result
        assert engine.generation == generation + 1
        assert action(manager, "www.tiktok.com") is Action.BLOCK

    asyncio.run(scenario())


def test_edited_list_file_named_in_the_sources_file_is_reloaded_by_the_watch(workdir: Path) -> None:
    config = load_config(workdir / "filterproxy.yaml", env={})

    def edit() -> None:
        (workdir / "social.txt").write_text("facebook.com\ninstagram.com\ntiktok.com\n")

    results = watch_until_blocked(config, edit, "www.tiktok.com", "www.tiktok.com")
    assert results and results[-1].ok and results[-1].rebuilt


def test_a_rejected_source_keeps_its_last_good_copy_while_the_others_update(workdir: Path) -> None:
    config = load_config(workdir / "filterproxy.yaml", env={"FILTERPROXY__CATEGORISE__ENABLED": "false"})
    registry = CollectorRegistry()
    metrics = ListMetrics(registry)

    async def scenario() -> None:
        engine = load_engine(config)  # the first build keeps a good copy of every accepted source
        manager = ListManager(config, engine, [list_observer(metrics)])
        (workdir / "social.txt").write_text("tiktok.com\n" + "not a domain !!\n" * 20)  # rejected
        (workdir / "gambling.hosts").write_text("0.0.0.0 bet.example\n0.0.0.0 newcasino.example\n")  # updated beside it
        result = await manager.reload()
        assert result.ok and result.rebuilt, result
        assert action(manager, "facebook.com") is Action.BLOCK  # the last good social list still serves
        assert action(manager, "tiktok.com") is Action.ALLOW  # the rejected version does not
        assert action(manager, "newcasino.example") is Action.BLOCK  # the other source updated
        social = next(s for s in engine.current.index.sources if s.id == "test/social")
        assert "test/social rejected" in social.stale and "social.txt:2:" in social.errors[0]
        labels = {"category": "social", "source": "test/social"}
        assert registry.get_sample_value("filterproxy_lists_source_rejected", labels) == 1
        (workdir / "social.txt").write_text("facebook.com\ntiktok.com\n")  # fixed: fresh again
        assert (await manager.reload()).ok
        assert action(manager, "tiktok.com") is Action.BLOCK
        assert registry.get_sample_value("filterproxy_lists_source_rejected", labels) == 0

    asyncio.run(scenario())
    stats = subprocess.run([sys.executable, "-m", "filterproxy.cli", "--config", str(workdir / "filterproxy.yaml"),
                            "lists", "stats", "--json"], capture_output=True, text=True, check=True)  # fmt: skip
    assert all(row["stale"] is None for row in json.loads(stats.stdout)["sources"])


def test_lists_stats_shows_a_stale_source(workdir: Path) -> None:
    config = load_config(workdir / "filterproxy.yaml", env={})
    load_engine(config)
    (workdir / "social.txt").write_text("not a domain !!\n" * 20)
    cli = [sys.executable, "-m", "filterproxy.cli", "--config", str(workdir / "filterproxy.yaml"), "lists", "stats"]
    text = subprocess.run(cli, capture_output=True, text=True, check=True).stdout
    assert "STALE: source test/social rejected" in text and "serving the last good copy" in text
    rows = json.loads(subprocess.run([*cli, "--json"], capture_output=True, text=True, check=True).stdout)["sources"]
    social = next(r for r in rows if r["source"] == "test/social")
    assert social["stale"] and social["entries"] > 0


def test_a_rejected_source_without_a_good_copy_fails_the_build_and_the_old_index_stays(workdir: Path) -> None:
    config = load_config(workdir / "filterproxy.yaml", env={})

    async def scenario() -> None:
        engine = load_engine(config)
        shutil.rmtree(last_good_dir(config))  # e.g. the first build after an upgrade
        manager = ListManager(config, engine)
        before = engine.current
        (workdir / "social.txt").write_text("facebook.com\n" + "not a domain !!\n" * 20)
        result = await manager.reload()
        assert not result.ok
        assert "test/social rejected" in result.message and "social.txt:2:" in result.message
        assert engine.current is before  # nothing swapped
        assert action(manager, "facebook.com") is Action.BLOCK

    asyncio.run(scenario())
