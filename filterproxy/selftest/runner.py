"""Planning and running the probes of one group, and printing the pass/fail table."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, TextIO

from filterproxy.config.model import Config
from filterproxy.errors import SelftestError
from filterproxy.selftest import probes
from filterproxy.selftest.marker import key_path, load_or_create_key
from filterproxy.selftest.results import Kind, ProbeResult, Run
from filterproxy.selftest.settings import SelftestSettings

Path_ = Literal["dns", "http"]


@dataclass(frozen=True, slots=True)
class Planned:
    kind: Kind
    category: str | None
    target: str
    path: Path_
    expected: Literal["blocked", "allowed"]


def plan(config: Config, settings: SelftestSettings, group: str) -> list[Planned]:
    """Every probe for ``group`` on every enabled path."""
    allowed = set(settings.allowed.get(group, []))
    targets: list[tuple[Kind, str | None, str, Literal["blocked", "allowed"]]] = [
        ("category", c.value, f"{c.value}.{settings.probe_domain}", "allowed" if c in allowed else "blocked")
        for c in settings.categories
    ]
    targets += [("educational", None, t, "allowed") for t in settings.educational]
    targets += [
        ("custom", p.category.value if p.category else None, p.target, p.expect)
        for p in settings.probes
        if not p.groups or group in p.groups
    ]
    paths: list[Path_] = []
    if settings.dns and config.dns.enabled:
        paths.append("dns")
    if settings.http and config.proxy.enabled:
        paths.append("http")
    return [
        Planned(kind, category, target, path, expected)
        for path in paths
        for kind, category, target, expected in targets
        if path == "http" or not _is_ip_url(target)
    ]


def _is_ip_url(target: str) -> bool:
    host = probes.host_of(target)
    return host.replace(".", "").isdigit() or ":" in host


def source_for(config: Config, settings: SelftestSettings, group: str) -> str | None:
    """The address to send from so the filter sees a client of ``group``."""
    if group not in config.policy.groups:
        raise SelftestError(f"unknown group {group!r}; groups are {', '.join(sorted(config.policy.groups))}")
    address = settings.source_addresses.get(group)
    if address is None:
        if group == config.policy.default_group:
            return None
        raise SelftestError(f"set selftest.source_addresses.{group} to an address of this host inside "
                            f"{group}'s networks, so the filter sees the probes as that group's")
    if not probes.can_bind(str(address)):
        raise SelftestError(f"selftest.source_addresses.{group}: {address} is not an address of this host")
    return str(address)


def run_group(config: Config, settings: SelftestSettings, group: str) -> Run:
    source = source_for(config, settings, group)
    planned = plan(config, settings, group)
    if not planned:
        raise SelftestError("nothing to probe: both the DNS and the HTTP path are disabled")
    dns_at = probes.connect_address(config.dns.listen)
    proxy_at = probes.connect_address(config.proxy.listen)
    key = probe_key(config)

    def one(p: Planned) -> ProbeResult:
        if p.path == "dns":
            seen = probes.probe_dns(probes.host_of(p.target), dns_at, config.block, settings.timeout, source, key)
        else:
            seen = probes.probe_http(p.target, proxy_at, settings.timeout, source, key)
        return ProbeResult(p.kind, p.category, p.target, p.path, p.expected, seen.observed, seen.detail)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = tuple(pool.map(one, planned))
    return Run(group, datetime.now(UTC), results)


def probe_key(config: Config) -> bytes:
    """The installation's probe key (the service's data directory): unmarked probes would be filed as incidents."""
    try:
        return load_or_create_key(config.data_dir)
    except OSError as exc:
        raise SelftestError(
            f"cannot read the probe key {key_path(config.data_dir)}: {exc}; run the self-test as the service's "
            "user with the service's data directory, or its probes would be recorded as pupils' traffic"
        ) from exc


def print_table(run: Run, out: TextIO) -> None:
    def emit(line: str) -> None:
        print(line, file=out)

    emit(f"self-test for group {run.group} at {run.at.strftime('%Y-%m-%d %H:%M:%S UTC')}")
    rows = [("RESULT", "PATH", "KIND", "TARGET", "EXPECTED", "OBSERVED", "DETAIL")]
    rows += [
        ("pass" if p.ok else "FAIL", p.path, p.category or p.kind, p.target, p.expected, p.observed, p.detail)
        for p in run.probes
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for row in rows:
        emit("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:6])) + "  " + row[6])
    failed = len(run.failures)
    emit(f"{len(run.probes) - failed} passed, {failed} failed: {'PASS' if run.passed else 'FAIL'}")
