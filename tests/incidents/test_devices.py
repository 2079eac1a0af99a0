"""Device names from DHCP leases (dnsmasq and ISC formats) and a static inventory CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from filterproxy.errors import ConfigError
from filterproxy.incidents.devices import DeviceDirectory, parse_inventory, parse_leases
from filterproxy.incidents.settings import AlertSettings, DeviceSettings

DNSMASQ = """1767225600 aa:bb:cc:dd:ee:01 10.0.0.5 lab-pc-05 01:aa:bb:cc:dd:ee:01
1767225600 aa:bb:cc:dd:ee:02 10.0.0.6 * *
"""

ISC = """# The format of this file is documented in the dhcpd.leases(5) manual page.
lease 10.0.0.20 {
  starts 2 2026/11/24 08:00:00;
  ends 2 2026/11/24 20:00:00;
  hardware ethernet aa:bb:cc:dd:ee:20;
  client-hostname "ipad-year7-12";
}
lease 10.0.0.21 {
  starts 2 2026/11/24 08:00:00;
}
"""


def test_dnsmasq_leases() -> None:
    assert parse_leases(DNSMASQ) == {"10.0.0.5": "lab-pc-05"}


def test_isc_leases() -> None:
    assert parse_leases(ISC) == {"10.0.0.20": "ipad-year7-12"}


def test_inventory_csv() -> None:
    text = "ip,device,user\n10.0.0.6,staff-laptop-2,jsmith\n10.0.0.9,library-pc\n# retired\n"
    assert parse_inventory(text) == {
        "10.0.0.6": ("staff-laptop-2", "jsmith"),
        "10.0.0.9": ("library-pc", None),
    }


def test_directory_prefers_inventory_and_rereads_changed_leases(tmp_path: Path) -> None:
    leases = tmp_path / "dhcpd.leases"
    leases.write_text(ISC)
    (tmp_path / "inv.csv").write_text("10.0.0.20,registered-ipad\n")
    directory = DeviceDirectory(DeviceSettings(leases_files=[leases], inventory_csv=Path("inv.csv")), tmp_path)
    assert directory.name("10.0.0.20") == "registered-ipad"
    assert directory.name("10.0.0.21") is None
    leases.write_text(ISC.replace("starts 2 2026/11/24 08:00:00;\n}", 'client-hostname "pc-21";\n}'))
    import os

    os.utime(leases, (1, 1))  # a different mtime, whatever the clock resolution
    assert directory.name("10.0.0.21") == "pc-21"
    assert directory.name("10.9.9.9") is None  # reverse DNS is off by default


def test_missing_inventory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="inventory_csv"):
        DeviceDirectory(DeviceSettings(inventory_csv=Path("nope.csv")), tmp_path)


def test_webhook_must_be_http() -> None:
    with pytest.raises(ValidationError, match="http"):
        AlertSettings(webhook_url="file:///etc/passwd")
