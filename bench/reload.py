"""How long a list reload pauses DNS: the largest latency gap a probe sees while the lists swap.

    .venv/bin/python -m bench.reload [--names 1000000] [--reloads 3]

A real resolver (`DnsServer`) and `ListManager` run in one event loop, as in `filterproxy serve`,
over a synthetic plain list of ``--names`` domains, with its answer cache filled (``--cached``
distinct names from a local stub upstream) as a busy school's would be. A probe thread sends a UDP
query every millisecond and a task in the loop measures its own scheduling lag; each reload edits
the list (so the index is rebuilt in a child, mapped and swapped) and the bench reports, per
reload, the largest DNS round trip and loop stall around the swap itself (from 50 ms before to
300 ms after it: the swap pause), during the whole reload (the child's build competes for the
CPU), and in the second before the reload.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import struct
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from filterproxy.config.model import Config
from filterproxy.dns.server import DnsServer
from filterproxy.lists.loader import load_engine
from filterproxy.lists.reload import ListManager
from tests.dns.stub import Stub
from tests.support import Loop


class ListSink:
    def submit(self, event: object) -> None:
        return None


def write_list(path: Path, names: int, extra: int = 0) -> None:
    with path.open("w") as fh:
        for i in range(names):
            fh.write(f"d{i}.bench{i % 97}.example\n")
        for i in range(extra):
            fh.write(f"extra{i}.bench.example\n")


class Probe:
    """UDP queries every millisecond; (sent at, round trip) for each answer, timeouts as 1 s."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        name = b"".join(bytes([len(p)]) + p for p in b"d5.bench5.example".split(b".")) + b"\0"
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(1.0)
        qid = 0
        while not self._stop.is_set():
            qid = (qid + 1) & 0xFFFF
            packet = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + name + b"\0\1\0\1"
            sent = time.perf_counter()
            sock.sendto(packet, ("127.0.0.1", self.port))
            try:
                while True:
                    data = sock.recv(4096)
                    if data[:2] == packet[:2]:
                        break
                self.samples.append((sent, time.perf_counter() - sent))
            except TimeoutError:
                self.samples.append((sent, 1.0))
            time.sleep(0.001)


async def loop_lag(samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    """The loop's own stalls: how late a 1 ms sleep wakes."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.001)
        samples.append((before, time.perf_counter() - before - 0.001))


def fill_cache(port: int, count: int) -> None:
    """``count`` distinct allowed names through the resolver, 200 in flight at a time."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2.0)
    for start in range(0, count, 200):
        for i in range(start, min(count, start + 200)):
            name = b"".join(bytes([len(p)]) + p for p in f"c{i}.cached.test".encode().split(b".")) + b"\0"
            sock.sendto(struct.pack(">HHHHHH", i & 0xFFFF, 0x0100, 1, 0, 0, 0) + name + b"\0\1\0\1",
                        ("127.0.0.1", port))  # fmt: skip
        for _ in range(start, min(count, start + 200)):
            try:
                sock.recv(4096)
            except TimeoutError:
                break


def window(samples: list[tuple[float, float]], start: float, end: float, inside: bool) -> list[float]:
    return [v for at, v in samples if (start <= at <= end) == inside]


def run(names: int, reloads: int, cached: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-reload-"))
    listing = tmp / "big.txt"
    write_list(listing, names)
    config = Config.model_validate({
        "data_dir": str(tmp / "data"),
        "lists": {"sources": [{"id": "bench/big", "category": "gambling", "path": str(listing)}], "watch": False},
        "dns": {"listen": "127.0.0.1:0", "upstreams": ["127.0.0.1:9"]},
    })  # fmt: skip
    started = time.perf_counter()
    engine = load_engine(config)
    build = time.perf_counter() - started
    loop = Loop()
    stub = Stub()
    loop.run(stub.start())
    dns = config.dns.model_copy(update={"upstreams": [f"127.0.0.1:{stub.port}"]})
    config = config.model_copy(update={"dns": dns})
    server = DnsServer(config, engine, ListSink(), CollectorRegistry())
    swaps: list[float] = []
    manager = ListManager(config, engine, [lambda result, engine: swaps.append(time.perf_counter())])
    loop.run(server.start())
    loop.run(manager.start())
    fill_cache(server.address[1], cached)
    probe = Probe(server.address[1])
    probe.start()
    lag: list[tuple[float, float]] = []
    stop = asyncio.Event()
    lagger = asyncio.run_coroutine_threadsafe(loop_lag(lag, stop), loop.loop)
    time.sleep(1.0)
    results = []
    for n in range(reloads):
        fill_cache(server.address[1], cached)  # the previous reload emptied it
        time.sleep(1.0)
        write_list(listing, names, extra=n + 1)
        begin = time.perf_counter()
        result = loop.run(manager.reload(), timeout=600)
        end = time.perf_counter()
        time.sleep(0.5)
        assert result.ok and result.rebuilt, result
        swap = swaps[-1]

        def stat(samples: list[tuple[float, float]], start: float, stop: float) -> float:
            return round(max(window(samples, start, stop, True) or [0.0]) * 1e3, 2)

        results.append({
            "reload_seconds": round(end - begin, 2),
            "swap_dns_max_ms": stat(probe.samples, swap - 0.05, swap + 0.3),
            "swap_loop_stall_max_ms": stat(lag, swap - 0.05, swap + 0.3),
            "reload_dns_max_ms": stat(probe.samples, begin, end + 0.3),
            "reload_loop_stall_max_ms": stat(lag, begin, end + 0.3),
            "before_dns_max_ms": stat(probe.samples, begin - 1.0, begin),
            "before_loop_stall_max_ms": stat(lag, begin - 1.0, begin),
            "reload_stall_at_s": round(max((v, at) for at, v in lag if begin <= at <= end + 0.3)[1] - begin, 3),
            "swap_at_s": round(swap - begin, 3),
            "before_dns_p50_ms": round(statistics.median(window(probe.samples, begin - 1.0, begin, True)) * 1e3, 3),
        })  # fmt: skip
    loop.loop.call_soon_threadsafe(stop.set)
    lagger.result(5)
    probe.stop()
    loop.run(manager.stop())
    loop.run(server.stop())
    loop.run(stub.stop())
    loop.close()
    return {"names": names, "cached": cached, "initial_build_seconds": round(build, 1), "reloads": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--reloads", type=int, default=3)
    parser.add_argument("--cached", type=int, default=100_000, help="distinct names in the answer cache")
    args = parser.parse_args()
    print(json.dumps(run(args.names, args.reloads, args.cached), indent=2))


if __name__ == "__main__":
    main()
