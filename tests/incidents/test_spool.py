"""The spool and the event codec: what goes in comes out, torn lines are counted."""

from __future__ import annotations

from pathlib import Path

from filterproxy.incidents.codec import event_from_dict, event_to_dict
from filterproxy.incidents.spool import Spool
from filterproxy.model import Category

from .conftest import make_event


def test_codec_round_trip() -> None:
    event = make_event(
        "10.0.0.7",
        "harm.example",
        Category.SELFHARM,
        protocol="https",
        url="https://harm.example/?q=x",
        search_term="x",
        user="amy",
    )
    assert event_from_dict(event_to_dict(event)) == event
    uncategorised = make_event(category=None)
    assert event_from_dict(event_to_dict(uncategorised)) == uncategorised


def test_spool_appends_reads_and_counts_torn_lines(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.spool")
    first, second = make_event(), make_event("10.0.0.9")
    spool.append([(1, first)], 1)
    spool.append([(2, second)], 5)
    with spool.path.open("a") as fh:
        fh.write('{"seq": 3, "e": {"at"')
    contents = Spool(spool.path).read()
    assert contents.events == [(1, first), (2, second)]
    assert (contents.submitted, contents.bad_lines, contents.last_seq) == (5, 1, 2)
    scanned = Spool(spool.path).scan()
    assert (scanned.events, scanned.count, scanned.last_seq, scanned.submitted, scanned.bad_lines) == ([], 2, 2, 5, 1)
    assert list(spool.chunks(1)) == [[(1, first)], [(2, second)]]
    spool.clear()
    assert spool.read().events == [] and spool.size() == 0 and list(spool.chunks(10)) == []
