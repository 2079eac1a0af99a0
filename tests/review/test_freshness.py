"""The review says when downloaded lists were stale: during the period (update log) and at generation."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from filterproxy.config.loader import load_config
from filterproxy.lists.state import LOG_FILE, STATE_FILE, Attempt, SourceState
from filterproxy.review.figures import Period
from filterproxy.review.freshness import stale_now, stale_spells
from filterproxy.review.gather import gather
from filterproxy.review.report import build_context, render

DAY = 86400.0
START = datetime(2026, 9, 1, tzinfo=UTC)
UNTIL = datetime(2027, 9, 1, tzinfo=UTC)


def at(days: float) -> float:
    return START.timestamp() + days * DAY


def test_spells_between_good_downloads_longer_than_the_limit() -> None:
    attempts = [Attempt(at(d), "a", o) for d, o in [(0, "updated"), (1, "unchanged"), (2, "failed"),
                                                     (12, "failed"), (15, "updated"), (16, "unchanged")]]
    attempts += [Attempt(at(d), "b", "unchanged") for d in range(0, 300, 1)]
    spells = stale_spells(attempts, ["a", "b", "c"], START, UNTIL, 7 * DAY, now=at(20))
    assert [(s.source_id, s.start, s.end, s.ongoing) for s in spells] == [
        ("a", START + timedelta(days=8), START + timedelta(days=15), False),
    ]
    assert spells[0].days == 7.0


def test_first_download_late_and_still_stale_at_the_end() -> None:
    attempts = [Attempt(at(d), "a", "failed") for d in range(10)] + [Attempt(at(30), "a", "updated")]
    spells = stale_spells(attempts, ["a"], START, UNTIL, 7 * DAY, now=at(60))
    assert [(s.start, s.end, s.ongoing) for s in spells] == [
        (START + timedelta(days=7), START + timedelta(days=30), False),
        (START + timedelta(days=37), START + timedelta(days=60), True),
    ]
    clipped = stale_spells(attempts, ["a"], START + timedelta(days=20), START + timedelta(days=40), 7 * DAY, at(60))
    assert [(s.start.day, s.end.day, s.ongoing) for s in clipped] == [(21, 1, False), (8, 11, True)]


def test_stale_now() -> None:
    now = at(100)
    states = [SourceState("fresh", "ok", checked_at=now - DAY), SourceState("never", "never"),
              SourceState("down", "failed", checked_at=now - 9 * DAY, last_error="HTTP 503"),
              SourceState("first", "failed", last_error="cannot download: refused")]
    assert stale_now(states, 7 * DAY, now) == [
        ("never", "never downloaded"),
        ("down", "not confirmed current for 9 days (last error: HTTP 503)"),
        ("first", "never downloaded (last error: cannot download: refused)"),
    ]


def test_the_report_says_which_lists_were_stale(tmp_path: Path) -> None:
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "bet.txt").write_text("bet.example\n")
    (tmp_path / "sources.yaml").write_text(
        "sources:\n"
        "  - {id: remote/bet, category: gambling, path: downloads/bet.txt, url: 'https://lists.invalid/bet.txt'}\n"
        "  - {id: remote/new, category: adult, path: downloads/new.txt, url: 'https://lists.invalid/new.txt'}\n"
    )
    (tmp_path / "filterproxy.yaml").write_text("data_dir: var\nlists:\n  sources_file: sources.yaml\n")
    lists = tmp_path / "var" / "lists"
    lists.mkdir(parents=True)
    now = time.time()
    first = now - 40 * DAY
    log = [(first, "updated"), (first + DAY, "unchanged"), (first + 20 * DAY, "updated"), (now - DAY, "failed")]
    (lists / LOG_FILE).write_text("".join(json.dumps({"at": t, "source": "remote/bet", "outcome": o,
                                                      "detail": ""}) + "\n" for t, o in log))
    (lists / STATE_FILE).write_text(json.dumps({
        "remote/bet": {"status": "failed", "checked_at": first + 20 * DAY, "entries": 1, "last_error": "HTTP 503"},
        "remote/new": {"status": "failed", "last_error": "cannot download: refused"},
    }))
    today = datetime.now(UTC).date()
    config = load_config(tmp_path / "filterproxy.yaml", env={})
    data = build_context(gather(config, Period(today - timedelta(days=60), today)))
    html = render(data)
    assert "At generation, 2 of 2 downloaded list(s) were stale" in html
    assert "remote/bet: not confirmed current for 20 days (last error: HTTP 503)" in html
    assert "remote/new: never downloaded (last error: cannot download: refused)" in html
    stale_table = html.split('id="stale-table"')[1].split("</table>")[0]
    assert stale_table.count("<tr>") == 3 and "still stale" in stale_table  # header + two spells
    assert "Downloaded list(s) stale for a time during the period: remote/bet" in html
    assert {s.id: s.download for s in data["sources"]} == {"remote/bet": "failed", "remote/new": "failed"}

    early = Period(date.fromtimestamp(first + 2 * DAY), date.fromtimestamp(first + 5 * DAY))
    quiet = build_context(gather(config, early))
    assert quiet["stale_spells"] == []
    assert "No downloaded list was stale during the period" in render(quiet)
