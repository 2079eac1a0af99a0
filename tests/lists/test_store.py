"""The compiled index: a round trip through the file gives the same verdicts; damage is an error."""

from __future__ import annotations

import asyncio
import ipaddress
import struct
from datetime import UTC, datetime
from pathlib import Path

import pytest

from filterproxy.classify.builder import IndexBuilder
from filterproxy.classify.classifier import Classifier
from filterproxy.classify.index import SourceInfo
from filterproxy.classify.policy import Policy
from filterproxy.classify.settings import PolicySettings
from filterproxy.config.loader import load_config
from filterproxy.errors import IndexFileError
from filterproxy.lists.build import fingerprint
from filterproxy.lists.loader import index_dir, load_engine, load_index, resolve_sources
from filterproxy.lists.reload import ListManager
from filterproxy.lists.store import FORMAT_VERSION, MAGIC, read_index, write_index
from filterproxy.lists.suffixes import bundled_suffixes
from filterproxy.model import Action, Category, Query

CLIENT = ipaddress.ip_address("10.0.0.1")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _index():  # type: ignore[no-untyped-def]
    builder = IndexBuilder()
    gambling = builder.pair(Category.GAMBLING, "g")
    adult = builder.pair(Category.ADULT, "a")
    for i in range(5000):
        builder.add_domain(f"site{i}.example", gambling)
    builder.add_domain("site7.example", adult)
    builder.add_url("media.example/adult", adult)
    builder.add_ip("203.0.113.0/24", adult)
    builder.add_exception("ok.site9.example", gambling)
    return builder.build([SourceInfo("g", Category.GAMBLING, "/g.txt", entries=5000)], fingerprint="fp1")


def _verdicts(index) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    classifier = Classifier(Policy(PolicySettings()), index, suffixes=bundled_suffixes())
    queries = [("www.site7.example", None), ("site4999.example", None), ("site5000.example", None),
               ("media.example", "/adult/1"), ("203.0.113.9", None), ("ok.site9.example", None),
               ("x.ok.site9.example", None), ("site9.example", None)]
    return [tuple(classifier.classify(Query(CLIENT, h, NOW, p))) for h, p in queries]


def test_round_trip_gives_identical_verdicts(tmp_path: Path) -> None:
    index = _index()
    write_index(index, tmp_path / "i.fpi")
    loaded = read_index(tmp_path / "i.fpi")
    assert _verdicts(loaded) == _verdicts(index)
    assert loaded.fingerprint == "fp1"
    assert loaded.sources[0].entries == 5000


def test_exception_cancels_only_its_own_list_at_its_level(tmp_path: Path) -> None:
    verdicts = _verdicts(_index())
    assert verdicts[5][0].value == "allow"  # ok.site9.example excepted
    assert verdicts[6][0].value == "allow"  # below the exception
    assert verdicts[7][0].value == "block"  # the parent stays blocked


@pytest.mark.parametrize("damage", [b"", b"NOTANIDX" + b"\0" * 64, "truncate"])
def test_damaged_files_are_reported(tmp_path: Path, damage: object) -> None:
    path = tmp_path / "i.fpi"
    write_index(_index(), path)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:-4000])
    else:
        path.write_bytes(damage)  # type: ignore[arg-type]
    with pytest.raises(IndexFileError):
        read_index(path)


def _with_version(path: Path, version: int) -> None:
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, len(MAGIC), version)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("version", [1, 2, FORMAT_VERSION + 1])
def test_a_file_of_another_version_is_refused_naming_both_versions(tmp_path: Path, version: int) -> None:
    path = tmp_path / "i.fpi"
    write_index(_index(), path)
    _with_version(path, version)
    with pytest.raises(IndexFileError, match=f"format version {version}, this filterproxy reads version "
                       f"{FORMAT_VERSION} only"):
        read_index(path)


def test_the_file_and_the_build_fingerprint_carry_one_version(tmp_path: Path) -> None:
    path = tmp_path / "i.fpi"
    write_index(_index(), path)
    assert path.read_bytes()[: len(MAGIC) + 2] == MAGIC + struct.pack("<H", FORMAT_VERSION)
    import filterproxy.lists.build as build

    before = fingerprint([], 0.1)
    build.FORMAT_VERSION = FORMAT_VERSION + 1  # type: ignore[attr-defined]
    try:
        assert fingerprint([], 0.1) != before  # a new format never finds an old file by name
    finally:
        build.FORMAT_VERSION = FORMAT_VERSION  # type: ignore[attr-defined]


def test_the_loader_rebuilds_a_compiled_index_of_another_version(workdir: Path) -> None:
    config = load_config(workdir / "filterproxy.yaml")
    first = load_index(config)
    path = index_dir(config) / f"{fingerprint(resolve_sources(config), config.lists.max_bad_share)}.fpi"
    assert path.exists() and first.fingerprint in path.name
    del first
    _with_version(path, 2)  # as a file written by a filterproxy of format version 2 would be
    again = load_index(config)
    assert read_index(path).fingerprint == again.fingerprint
    assert path.read_bytes()[len(MAGIC) : len(MAGIC) + 2] == struct.pack("<H", FORMAT_VERSION)
    classifier = Classifier(Policy(PolicySettings()), again, suffixes=bundled_suffixes())
    verdict = classifier.classify(Query(CLIENT, "bet.example", NOW))
    assert verdict.category is Category.GAMBLING


def test_a_reload_rebuilds_a_compiled_index_of_another_version(workdir: Path) -> None:
    config = load_config(workdir / "filterproxy.yaml", env={})

    async def scenario() -> None:
        engine = load_engine(config)
        manager = ListManager(config, engine)
        (workdir / "social.txt").write_text("facebook.com\ninstagram.com\ntiktok.com\n")
        wanted = index_dir(config) / f"{fingerprint(resolve_sources(config), config.lists.max_bad_share)}.fpi"
        write_index(engine.current.index, wanted)  # the old lists, under the new name, in format version 2
        _with_version(wanted, 2)
        result = await manager.reload()
        assert result.ok and result.rebuilt, result
        verdict = engine.classify(Query(CLIENT, "www.tiktok.com", NOW))
        assert verdict.action is Action.BLOCK and verdict.category is Category.SOCIAL

    asyncio.run(scenario())
