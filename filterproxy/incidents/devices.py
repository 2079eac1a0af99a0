"""Device names for client addresses: a static inventory, DHCP leases, or reverse DNS.

Called by the writer thread only (never on the hot path). Leases files are re-read when
their modification time changes; reverse DNS answers are cached for an hour.
"""

from __future__ import annotations

import csv
import logging
import socket
import time
from pathlib import Path

from filterproxy.errors import ConfigError
from filterproxy.incidents.settings import DeviceSettings

log = logging.getLogger(__name__)
_PTR_TTL = 3600.0


def parse_inventory(text: str) -> dict[str, tuple[str, str | None]]:
    """``ip,device[,user]`` rows (a header row starting with ``ip`` is skipped)."""
    out: dict[str, tuple[str, str | None]] = {}
    for row in csv.reader(text.splitlines()):
        if len(row) < 2 or row[0].strip().lower() in ("ip", "address") or row[0].startswith("#"):
            continue
        user = row[2].strip() if len(row) > 2 and row[2].strip() else None
        out[row[0].strip()] = (row[1].strip(), user)
    return out


def parse_leases(text: str) -> dict[str, str]:
    """IP -> host name from a dnsmasq leases file or an ISC dhcpd.leases file (detected)."""
    if "lease " in text and "{" in text:
        return _parse_isc(text)
    out: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split()  # expiry mac ip hostname client-id
        if len(parts) >= 4 and parts[3] != "*":
            out[parts[2]] = parts[3]
    return out


def _parse_isc(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    ip: str | None = None
    for raw in text.splitlines():
        line = raw.strip().rstrip(";")
        if line.startswith("lease ") and line.endswith("{"):
            ip = line.split()[1]
        elif line.startswith("client-hostname ") and ip is not None:
            out[ip] = line.split(None, 1)[1].strip('"')
        elif line == "}":
            ip = None
    return out


class DeviceDirectory:
    """Looks up a device name (and a user from the inventory) for a client address."""

    def __init__(self, settings: DeviceSettings, base: Path) -> None:
        self.settings = settings
        self._inventory: dict[str, tuple[str, str | None]] = {}
        inventory = settings.inventory_csv
        if inventory is not None:
            try:
                self._inventory = parse_inventory((base / inventory).read_text(encoding="utf-8"))
            except OSError as exc:
                raise ConfigError(f"incidents.devices.inventory_csv: cannot read {base / inventory}: {exc}") from exc
        self._leases_paths = [base / p for p in settings.leases_files]
        self._leases: dict[Path, tuple[float, dict[str, str]]] = {}
        self._ptr: dict[str, tuple[float, str | None]] = {}

    def name(self, client: str) -> str | None:
        if client in self._inventory:
            return self._inventory[client][0]
        for path in self._leases_paths:
            found = self._lease_table(path).get(client)
            if found:
                return found
        return self._reverse(client) if self.settings.reverse_dns else None

    def leased(self, client: str) -> bool:
        """Whether a DHCP lease names the device at ``client`` (and the inventory does not)."""
        if client in self._inventory:
            return False
        return any(client in self._lease_table(path) for path in self._leases_paths)

    def user(self, client: str) -> str | None:
        entry = self._inventory.get(client)
        return entry[1] if entry else None

    def _lease_table(self, path: Path) -> dict[str, str]:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return {}
        cached = self._leases.get(path)
        if cached is None or cached[0] != mtime:
            try:
                cached = (mtime, parse_leases(path.read_text(encoding="utf-8", errors="replace")))
            except OSError as exc:
                log.warning("cannot read leases file %s: %s", path, exc)
                return {}
            self._leases[path] = cached
        return cached[1]

    def _reverse(self, client: str) -> str | None:
        now = time.monotonic()
        cached = self._ptr.get(client)
        if cached is not None and now - cached[0] < _PTR_TTL:
            return cached[1]
        try:
            name: str | None = socket.gethostbyaddr(client)[0]
        except OSError:
            name = None
        self._ptr[client] = (now, name)
        return name
