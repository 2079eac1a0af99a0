"""Who holds a port: one line for "address already in use" instead of a traceback.

Linux only, read from ``/proc``: the listening sockets in ``/proc/net/{tcp,tcp6,udp,udp6}``
give the socket inode of an address, and ``/proc/<pid>/fd`` links name the process that owns
that inode. Without permission to read another user's file descriptors the holder is unknown
and the message says only that the address is in use.
"""

from __future__ import annotations

import errno
import ipaddress
import os
from collections.abc import Iterable
from pathlib import Path

from filterproxy.config.model import Config
from filterproxy.config.types import split_host_port

PROC = Path("/proc")
_TCP_LISTEN = "0A"
_UDP_UNCONNECTED = "07"


def is_in_use(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) is EADDRINUSE."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
            return True
        exc = exc.__cause__  # type: ignore[assignment]
    return False


def listen_addresses(config: Config) -> list[tuple[str, str, str]]:
    """``(setting, HOST:PORT, protocol)`` for every socket ``serve`` binds with this config."""
    out: list[tuple[str, str, str]] = []
    if config.metrics.enabled:
        out.append(("metrics.listen", config.metrics.listen, "tcp"))
    if config.dns.enabled:
        out += [("dns.listen", config.dns.listen, "udp"), ("dns.listen", config.dns.listen, "tcp")]
    if config.proxy.enabled:
        out.append(("proxy.listen", config.proxy.listen, "tcp"))
        if config.proxy.pac_listen:
            out.append(("proxy.pac_listen", config.proxy.pac_listen, "tcp"))
    return out


def explain_in_use(config: Config, proc: Path = PROC) -> str | None:
    """One line naming the first configured address another process holds, or None if none is found."""
    own = os.getpid()
    for setting, listen, protocol in listen_addresses(config):
        host, port = split_host_port(listen)
        if port == 0:
            continue
        owners = socket_owners(set(_inodes(host, port, protocol, proc)), proc)
        foreign = {inode: pid for inode, pid in owners.items() if pid != own}
        if foreign:
            pid = next((p for p in foreign.values() if p is not None), None)
            by = f" (by pid {pid} {process_name(pid, proc)})" if pid is not None else ""
            return f"{host}:{port}/{protocol} ({setting}) is already in use{by}; is filterproxy already running?"
    return None


def socket_owners(inodes: set[int], proc: Path = PROC) -> dict[int, int | None]:
    """Socket inode -> the pid holding it (None: not found, e.g. another user's process)."""
    owners: dict[int, int | None] = dict.fromkeys(inodes)
    if not inodes:
        return owners
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    for entry in _pids(proc):
        try:
            links = [os.readlink(fd) for fd in (proc / entry / "fd").iterdir()]
        except OSError:
            continue  # gone, or not ours to read
        for link in links:
            if link in wanted:
                owners[wanted[link]] = int(entry)
    return owners


def process_name(pid: int, proc: Path = PROC) -> str:
    """The program and its first plain argument (``filterproxy serve``), from ``/proc/<pid>/cmdline``."""
    try:
        argv = [a.decode(errors="replace") for a in (proc / str(pid) / "cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return "?"
    if not argv:
        return "?"
    if Path(argv[0]).name.startswith("python") and len(argv) > 1:
        rest = [a for a in argv[1:] if a != "-m"]  # the interpreter of a script says little
        argv = rest if rest and not rest[0].startswith("-") else argv[:1]
    plain = [a for a in argv[1:] if not a.startswith("-") and "/" not in a]
    words = [Path(argv[0]).name, *plain[:1]]
    return " ".join(w.splitlines()[0][:40] if w.strip() else "?" for w in words)


def _inodes(host: str, port: int, protocol: str, proc: Path) -> Iterable[int]:
    try:
        wanted = ipaddress.ip_address(host or "0.0.0.0")
    except ValueError:
        return
    for table in (protocol, protocol + "6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            address, _, port_hex = fields[1].partition(":")
            state = fields[3]
            if state != (_TCP_LISTEN if protocol == "tcp" else _UDP_UNCONNECTED) or int(port_hex, 16) != port:
                continue
            local = _address(address)
            if local == wanted or local.is_unspecified or wanted.is_unspecified:
                yield int(fields[9])


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address as /proc/net prints it: host-order 32-bit words in hex."""
    raw = bytes.fromhex(text)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _pids(proc: Path) -> Iterable[str]:
    try:
        return [e for e in os.listdir(proc) if e.isdigit()]
    except OSError:
        return []
