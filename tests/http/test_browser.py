"""Headless Chromium through the proxy: an allowed page loads, a blocked one shows the block page.

Screenshots are kept under artifacts/http/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.http.conftest import RunningProxy

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "http"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


def chromium(proxy: RunningProxy, profile: Path, *args: str, pac: bool = False) -> subprocess.CompletedProcess[str]:
    assert proxy.server.pac is not None
    route = (
        f"--proxy-pac-url=http://127.0.0.1:{proxy.server.pac.port}/wpad.dat"
        if pac
        else f"--proxy-server=http://127.0.0.1:{proxy.port}"
    )
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        route,
        "--window-size=1000,800",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def proxy(proxy_factory: Any) -> RunningProxy:
    return proxy_factory(pac_listen="127.0.0.1:0")


def test_allowed_page_and_block_page_in_a_browser(proxy: RunningProxy, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    allowed = chromium(proxy, tmp_path / "p1", "--dump-dom", "http://ok.example/page")
    assert "This page came from the origin." in allowed.stdout, allowed.stderr[-2000:]
    blocked = chromium(proxy, tmp_path / "p2", "--dump-dom", "http://bet.example/roulette")
    assert "This page is blocked" in blocked.stdout and "Gambling" in blocked.stdout, blocked.stderr[-2000:]
    events = [e for e in proxy.sink.events if e.url == "http://bet.example/roulette"]
    assert events and events[-1].reference in blocked.stdout
    assert "Chrome" in (events[-1].user_agent or "")
    for name, url in (("allowed", "http://ok.example/page"), ("blockpage", "http://bet.example/roulette")):
        shot = ARTIFACTS / f"{name}.png"
        shot.unlink(missing_ok=True)
        chromium(proxy, tmp_path / f"s-{name}", f"--screenshot={shot}", url)
        assert shot.exists() and shot.read_bytes().startswith(b"\x89PNG")


def test_browser_configured_by_the_pac_file_goes_through_the_filter(proxy: RunningProxy, tmp_path: Path) -> None:
    blocked = chromium(proxy, tmp_path / "pac", "--dump-dom", "http://social.example/feed", pac=True)
    assert "This page is blocked" in blocked.stdout and "Social networking" in blocked.stdout, blocked.stderr[-2000:]
