"""deploy/systemd: units that systemd itself accepts, running unprivileged with two capabilities."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "systemd"
VENV_BIN = Path(sys.executable).parent
ANALYZE = shutil.which("systemd-analyze")

needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed (package systemd)")


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string((UNITS / name).read_text())
    return parser


def _verify(tmp_path: Path, text: str, name: str) -> subprocess.CompletedProcess[str]:
    """systemd-analyze verify on a copy whose ExecStart points at this checkout's filterproxy."""
    unit = tmp_path / name
    unit.write_text(text.replace("/opt/filterproxy/.venv/bin/", f"{VENV_BIN}/"))
    argv = [str(ANALYZE), "verify", "--man=no", str(unit)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


@needs_analyze
@pytest.mark.parametrize("name", ["filterproxy.service", "filterproxy-gateway.service"])
def test_systemd_accepts_the_unit_without_warnings(tmp_path: Path, name: str) -> None:
    done = _verify(tmp_path, (UNITS / name).read_text(), name)
    assert (done.returncode, done.stderr) == (0, "")


@needs_analyze
def test_verify_reports_a_broken_unit(tmp_path: Path) -> None:
    text = (UNITS / "filterproxy.service").read_text().replace("Type=exec", "Type=exe")
    assert "Failed to parse service type" in _verify(tmp_path, text, "filterproxy.service").stderr


@pytest.mark.parametrize(
    ("name", "caps"),
    [
        ("filterproxy.service", {"CAP_NET_BIND_SERVICE", "CAP_NET_ADMIN"}),
        ("filterproxy-gateway.service", {"CAP_NET_ADMIN"}),
    ],
)
def test_units_are_unprivileged_with_only_the_capabilities_they_need(name: str, caps: set[str]) -> None:
    service = _unit(name)["Service"]
    assert service["User"] == "filterproxy"
    assert set(service["AmbientCapabilities"].split()) == caps
    assert set(service["CapabilityBoundingSet"].split()) == caps
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert "AF_NETLINK" in service["RestrictAddressFamilies"]  # nft talks netlink


def test_gateway_unit_loads_before_and_removes_after_the_service() -> None:
    gateway = _unit("filterproxy-gateway.service")
    assert gateway["Unit"]["Before"] == "filterproxy.service"
    assert gateway["Service"]["ExecStart"].endswith("filterproxy gateway up")
    assert gateway["Service"]["ExecStop"].endswith("filterproxy gateway down")
    assert gateway["Service"]["RemainAfterExit"] == "yes"


def test_sysctl_enables_forwarding() -> None:
    lines = (UNITS / "90-filterproxy-gateway.conf").read_text().splitlines()
    assert "net.ipv4.ip_forward = 1" in lines
