"""The compiled index: a round trip through the file gives the same verdicts; damage is an error."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path

import pytest

from filterproxy.classify.builder import IndexBuilder
from filterproxy.classify.classifier import Classifier
from filterproxy.classify.index import SourceInfo
from filterproxy.classify.policy import Policy
from filterproxy.classify.settings import PolicySettings
from filterproxy.classify.store import read_index, write_index
from filterproxy.errors import IndexFileError
from filterproxy.model import Category, Query

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
    classifier = Classifier(Policy(PolicySettings()), index)
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
