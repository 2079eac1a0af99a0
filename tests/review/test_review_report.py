from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from filterproxy.config.loader import load_config
from filterproxy.review import commands
from filterproxy.review.figures import Period
from filterproxy.review.gather import gather
from filterproxy.review.report import build_context

from .conftest import MONTHS, Seed

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PERIOD = Period(date(2025, 9, 1), date(2026, 8, 31))


class Tables(HTMLParser):
    """Rows of every table with an id, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.ids: dict[str, str] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._id: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = []
        elif tag == "b" and a.get("id"):
            self._id = a["id"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._table and self._cell is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._id:
            self.ids[self._id] = data.strip()
            self._id = None


def run_review(seed: Seed, out: Path, *extra: str) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=Path)
    parser.add_argument("--data-dir", type=Path, default=None)
    commands.register(parser.add_subparsers())
    args = parser.parse_args(
        [
            "--config",
            str(seed.config),
            "review",
            "--from",
            "2025-09-01",
            "--to",
            "2026-08-31",
            "--out",
            str(out),
            *extra,
        ]
    )
    return int(args.handler(args))


@pytest.fixture(scope="module")
def report(seed: Seed, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Tables]:
    out = tmp_path_factory.mktemp("out") / "review.html"
    assert run_review(seed, out) == 0
    tables = Tables()
    tables.feed(out.read_text(encoding="utf-8"))
    return out, tables


def test_blocks_per_category_per_month_match_the_seed(seed: Seed, report: tuple[Path, Tables]) -> None:
    rows = {r[0]: r[1:] for r in report[1].tables["blocks-table"][1:]}
    assert report[1].tables["blocks-table"][0][1:-1] == MONTHS
    assert rows["Gambling"][:-1] == [str(2 * n) for n in seed.gambling_per_month]
    assert rows["Gambling"][-1] == str(2 * sum(seed.gambling_per_month))
    assert rows["Adult content"] == ["3"] * 12 + ["36"]
    assert set(rows) == {"Gambling", "Adult content"}  # the self-harm matches were log-only
    logged = {r[0]: r[1:] for r in report[1].tables["logged-table"][1:]}
    assert logged["Self-harm and suicide"] == ["1"] * 12
    assert report[1].ids["total-blocks"] == str(2 * sum(seed.gambling_per_month) + 36)


def test_incidents_status_outcome_and_triage(seed: Seed, report: tuple[Path, Tables]) -> None:
    tables = report[1].tables
    incidents = sum(seed.gambling_per_month) + 36 + 12
    assert report[1].ids["total-incidents"] == str(incidents)
    status = dict(tuple(r) for r in tables["status-table"][1:])
    assert status == {"new": str(incidents - 10), "triaged": "7", "closed": "3"}
    outcome = dict(tuple(r) for r in tables["outcome-table"][1:])
    assert outcome == {"(none)": str(incidents - 3), "false_positive": "3"}
    identified = dict(tuple(r) for r in tables["identification-table"][1:])
    assert identified == {"(none)": str(incidents - 12), "radius": "12"}  # counts only: no names in the review
    assert "pupil1" not in report[0].read_text()
    triage = tables["triage-table"][1]
    assert triage[:2] == ["10", str(incidents - 10)]
    assert triage[2:] == ["5.5 h", "9.0 h", "10.0 h"]  # median of 1..10 h, 90th percentile, longest


def test_top_sites_list_changes_and_overblocking(report: tuple[Path, Tables]) -> None:
    out, tables = report[0], report[1].tables
    html = out.read_text(encoding="utf-8")
    changes = tables["changes-table"][1:]
    assert [r[2] for r in changes] == [
        "add",
        "allow",
        "allow",
        "refused",
        "unallow",
    ]  # in period, oldest first
    assert changes[1][4] == "history.example, art.example, science.example"
    assert "&lt;b&gt;lesson&lt;/b&gt;" in html and "<b>lesson</b>" not in html  # reasons are escaped
    assert "1 line(s) of the audit log could not be read" in html
    assert report[1].ids["total-allowed"] == "4"
    overblocking = re.sub(r"\s+", " ", html.split('id="overblocking-list"')[1].split("</ul>")[0])
    assert "<b>4</b>" in overblocking and "<b>1</b>" in overblocking and "<b>3</b>" in overblocking
    adult_top = html.split('data-category="adult"')[-1].split("</table>")[0]
    assert "adult.example" in adult_top and '<td class="n">36</td>' in adult_top


def test_sources_selftest_and_standards(report: tuple[Path, Tables]) -> None:
    out, tables = report[0], report[1].tables
    sources = {r[0]: r for r in tables["sources-table"][1:]}
    assert sources["starter/gambling"][2] == "CC0-1.0" and sources["starter/gambling"][5] == "3"
    assert sources["ut1/adult"][3] == "30" and sources["ut1/adult"][5] == "2"
    selftest = {r[0]: r for r in tables["selftest-table"][1:]}
    assert selftest["pupils"][1:4] == ["3", "2", "1"] and selftest["pupils"][5] == "pass"
    assert selftest["staff"][5].startswith("FAIL: adult.filterproxy-selftest.example")
    html = out.read_text(encoding="utf-8")
    for number in range(1, 5):
        assert f'id="standard-{number}"' in html
    assert "older than 7 days: ut1/adult" in html
    assert "No &#39;illegal&#39; feed" in html
    assert html.count("<svg") >= 2


def test_context_numbers_without_rendering(seed: Seed) -> None:
    config = load_config(seed.config)
    data = build_context(gather(config, PERIOD))
    assert data["block_totals"]["gambling"] == 2 * sum(seed.gambling_per_month)
    assert data["triage"].median_hours == pytest.approx(5.5)
    assert data["people"]["ict.manager"] == {"list_changes": 4, "incident_actions": 10}
    assert data["people"]["dsl"] == {"list_changes": 1, "incident_actions": 3}


def test_bad_arguments_are_clear_errors(seed: Seed, tmp_path: Path) -> None:
    from filterproxy.errors import ConfigError

    with pytest.raises(ConfigError, match=r"only \.html"):
        run_review(seed, tmp_path / "r.pdf")
    with pytest.raises(SystemExit):
        run_review(seed, tmp_path / "r.html", "--from", "31/08/2026")


@pytest.mark.slow
def test_headless_browser_screenshot(report: tuple[Path, Tables], tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/bootstrap.sh test installs it)")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "review.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1280,4000",
            report[0].as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    shutil.copy(report[0], ARTIFACTS / "review.html")
    assert shot.stat().st_size > 50_000  # a rendered page with charts, not a blank canvas
