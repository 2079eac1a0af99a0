"""`filterproxy gateway up|down|status`, run for real inside a throwaway namespace."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from filterproxy.cli import main

from .conftest import needs_netns, run_in, write_config

pytestmark = needs_netns

FILTERPROXY = [sys.executable, "-m", "filterproxy.cli"]


def _config(tmp_path: Path, **gateway: object) -> Path:
    return write_config(
        tmp_path,
        dns={"listen": "0.0.0.0:5353", "upstreams": ["127.0.0.1:53"]},
        proxy={"listen": "0.0.0.0:8080"},
        gateway={"lan_interfaces": ["lan0"], **gateway},
    )


def _cli(netns: str, config: Path, *args: str) -> tuple[int, str]:
    done = run_in(netns, *FILTERPROXY, "--config", str(config), "gateway", *args)
    return done.returncode, done.stdout + done.stderr


def test_up_status_down_cycle(tmp_path: Path, netns: str) -> None:
    config = _config(tmp_path)
    assert _cli(netns, config, "status") == (3, "gateway: table inet filterproxy is not loaded\n")
    code, out = _cli(netns, config, "up")
    assert code == 0, out
    assert "loaded (steered mode)" in out
    assert "warning: dns.listen" not in out
    assert run_in(netns, "nft", "list", "chain", "inet", "filterproxy", "divert").returncode == 0
    code, out = _cli(netns, config, "status")
    assert code == 0, out
    assert "steer4       0 elements" in out and "doh4" in out
    assert "divert  DNS" in out
    code, out = _cli(netns, config, "down")
    assert (code, out) == (0, "gateway: table inet filterproxy removed\n")
    assert run_in(netns, "nft", "list", "tables").stdout == ""
    assert _cli(netns, config, "down") == (0, "gateway: table inet filterproxy is not loaded\n")


def test_up_twice_replaces_and_down_leaves_other_tables(tmp_path: Path, netns: str) -> None:
    other = "table inet school {\n chain input { type filter hook input priority 0; policy accept; }\n}\n"
    assert run_in(netns, "nft", "-f", "-", text=other).returncode == 0
    assert _cli(netns, _config(tmp_path), "up")[0] == 0
    strict = tmp_path / "strict"
    strict.mkdir()
    assert _cli(netns, _config(strict, mode="strict"), "up")[0] == 0
    listing = run_in(netns, "nft", "list", "ruleset").stdout
    assert listing.count("table inet filterproxy") == 1
    assert '"web (strict)"' in listing and '"steered"' not in listing
    assert _cli(netns, _config(tmp_path), "down")[0] == 0
    assert run_in(netns, "nft", "list", "tables").stdout == "table inet school\n"


def test_dry_run_prints_a_ruleset_nft_accepts_and_loads_nothing(tmp_path: Path, netns: str) -> None:
    code, out = _cli(netns, _config(tmp_path), "up", "--dry-run")
    assert code == 0
    assert out.startswith("# filterproxy gateway (steered mode)")
    assert run_in(netns, "nft", "-c", "-f", "-", text=out).returncode == 0
    assert run_in(netns, "nft", "list", "tables").stdout == ""


def test_nft_failure_is_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, nft=str(tmp_path / "no-such-nft"))
    assert main(["--config", str(config), "gateway", "up"]) == 1
    assert "no-such-nft' not found" in capsys.readouterr().err


def test_missing_interfaces_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, gateway={})
    assert main(["--config", str(config), "gateway", "up", "--dry-run"]) == 1
    assert "gateway.lan_interfaces is empty" in capsys.readouterr().err


def test_up_warns_when_services_listen_on_loopback(tmp_path: Path, netns: str) -> None:
    config = write_config(
        tmp_path, dns={"listen": "127.0.0.1:5353"}, proxy={"listen": "0.0.0.0:8080"},
        gateway={"lan_interfaces": ["lan0"]},
    )
    code, out = _cli(netns, config, "up")
    assert code == 0
    assert "warning: dns.listen is 127.0.0.1:5353" in out
    assert "warning: proxy.listen" not in out
