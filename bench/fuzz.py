"""Fuzzing: generated DNS packets at a running resolver, generated list lines at the parsers.

    .venv/bin/python -m bench.fuzz [--udp 900000] [--tcp 150000] [--lines 1000000] [--seconds 900]

The resolver is the real one, ``filterproxy dns`` as a subprocess on loopback (upstream: a local
stub), so a crash shows as a dead process. Packets are built from a seed by mutating valid queries
(bit flips, truncation, trailing garbage, wrong counts, compression loops, odd EDNS) or are random
bytes; TCP messages go over many connections, some with lying length prefixes or cut short. After
every phase the resolver must still answer a plain query. List lines (random bytes and mutated real
entries) go through every line parser. Bounded in count and time; loopback only. It prints the
figures as JSON and exits 1 if anything crashed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from filterproxy.lists.parsers.adblock import parse_adblock_lines
from filterproxy.lists.parsers.lines import parse_domain_lines, parse_url_lines
from filterproxy.lists.parsers.rpz import parse_rpz_lines
from tests.dns.stub import Stub
from tests.support import free_udp_tcp_port

NAMES = ["example.org", "bet.example", "www.bet.example", "a.b.c.d.example.net", "xn--bcher-kva.example", ""]
QTYPES = [1, 28, 5, 15, 16, 255, 65, 12, 6, 2, 33, 0, 65535]


def name_wire(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def query(rng: random.Random) -> bytes:
    header = struct.pack(">HHHHHH", rng.getrandbits(16), 0x0100, 1, 0, 0, 0)
    question = name_wire(rng.choice(NAMES)) + struct.pack(">HH", rng.choice(QTYPES), rng.choice((1, 1, 1, 3, 255)))
    packet = header + question
    if rng.random() < 0.4:  # EDNS, sometimes with options, an owner that is not the root, odd sizes
        owner = b"\0" if rng.random() < 0.8 else name_wire("x.example")
        options = bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 0, 4, 12, 40))))
        opt = owner + struct.pack(">HHIH", 41, rng.choice((512, 1232, 4096, 0, 65535)), rng.getrandbits(32),
                                  len(options)) + options  # fmt: skip
        packet = packet[:10] + struct.pack(">H", 1) + packet[12:] + opt
    return packet


def mutate(rng: random.Random, packet: bytes) -> bytes:
    data = bytearray(packet)
    choice = rng.randrange(9)
    if choice == 0:  # bit flips
        for _ in range(rng.randint(1, 8)):
            if data:
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif choice == 1:  # truncation
        del data[rng.randrange(len(data) + 1):]
    elif choice == 2:  # trailing garbage after the question
        data += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
    elif choice == 3:  # lying section counts
        struct.pack_into(">HHHH", data, 4, *(rng.choice((0, 1, 2, 255, 65535)) for _ in range(4)))
    elif choice == 4:  # a compression pointer to itself or beyond the end
        data[12:12] = struct.pack(">H", 0xC000 | rng.choice((12, 0, len(data) + 40, 0x3FFF)))
    elif choice == 5:  # an over-long label, or a name longer than 255
        data[12:12] = bytes([rng.choice((63, 64, 127, 255))]) + b"a" * rng.choice((63, 64, 200))
    elif choice == 6:  # response bits, opcodes, z bits
        struct.pack_into(">H", data, 2, rng.getrandbits(16))
    elif choice == 7:  # random bytes of random length
        return bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 1, 11, 12, 13, 40, 512))))
    else:  # splice two queries
        data += query(rng)[12:]
    return bytes(data)


def packets(seed: int) -> Iterator[bytes]:
    rng = random.Random(seed)
    while True:
        base = query(rng)
        yield base if rng.random() < 0.1 else mutate(rng, base)


class Resolver:
    """``filterproxy dns`` in a subprocess with a stub upstream in a thread of this process."""

    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stub = Stub()
        asyncio.run_coroutine_threadsafe(self.stub.start(), self.loop).result(10)
        self.port = free_udp_tcp_port()
        (tmp / "gambling.txt").write_text("bet.example\n")
        config = tmp / "filterproxy.yaml"
        config.write_text(
            f"data_dir: data\nlists:\n  sources:\n    - {{id: f/gambling, category: gambling, path: gambling.txt}}\n"
            f"dns:\n  listen: 127.0.0.1:{self.port}\n  upstreams: [\"127.0.0.1:{self.stub.port}\"]\n"
            "metrics: {enabled: false}\nincidents: {store: \"sqlite:incidents.db\"}\n"
        )
        self.log = (tmp / "dns.log").open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "filterproxy.cli", "--config", str(config), "dns"],
                                     stdout=self.log, stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 60
        while not self.answers():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the resolver did not start")
            time.sleep(0.3)

    def answers(self) -> bool:
        """Whether a plain query still gets its answer (over UDP)."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(2)
            packet = struct.pack(">HHHHHH", 4242, 0x0100, 1, 0, 0, 0) + name_wire("bet.example") + b"\0\1\0\1"
            try:
                sock.sendto(packet, ("127.0.0.1", self.port))
                return sock.recv(4096)[:2] == packet[:2]
            except OSError:
                return False

    def rss_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    def close(self) -> int | None:
        code = self.proc.poll()
        self.proc.terminate()
        self.proc.wait(30)
        asyncio.run_coroutine_threadsafe(self.stub.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.log.close()
        return code


def fuzz_udp(resolver: Resolver, count: int, deadline: float, seed: int) -> dict[str, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.setblocking(False)
    sent = answered = 0
    source = packets(seed)
    while sent < count and time.monotonic() < deadline:
        for _ in range(64):
            sock.sendto(next(source), ("127.0.0.1", resolver.port))
            sent += 1
        time.sleep(0.0005)  # let the resolver keep up: fuzzing, not flooding
        try:
            while True:
                sock.recv(65535)
                answered += 1
        except BlockingIOError:
            pass
    sock.close()
    return {"sent": sent, "answered": answered}


def fuzz_tcp(resolver: Resolver, count: int, deadline: float, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    source = packets(seed + 1)
    sent = connections = 0
    while sent < count and time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", resolver.port), timeout=5) as conn:
            connections += 1
            conn.setblocking(False)
            chunks = []
            for _ in range(rng.randint(1, 200)):
                message = next(source)
                length = len(message) if rng.random() < 0.9 else rng.choice((0, 1, 65535, len(message) + 7))
                chunks.append(struct.pack(">H", length) + message)
                sent += 1
            blob = b"".join(chunks)
            if rng.random() < 0.1:
                blob = blob[: rng.randrange(len(blob) + 1)]  # cut short mid-message
            with contextlib.suppress(BlockingIOError, ConnectionError):
                conn.sendall(blob)
            conn.settimeout(0.02)  # read what came back, briefly: the resolver answers or closes
            with contextlib.suppress(BlockingIOError, ConnectionError, TimeoutError):
                while conn.recv(65535):
                    pass
    return {"sent": sent, "connections": connections}


LINE_SEEDS = [
    "bet.example", "0.0.0.0 bet.example", "127.0.0.1 a.b.example # c", "||ads.example^", "@@||ok.example^$important",
    "*.wild.example", "bet.example CNAME .", "*.bet.example CNAME rpz-passthru.", "32.1.0.0.10.rpz-ip CNAME .",
    "http://bad.example/path?q=1", "bad.example:8080/x", "$ORIGIN rpz.example.", "# comment", "! adblock comment",
    "xn--bcher-kva.example", "10.0.0.0/8", "::1 localhost", "a..b", "-bad-.example", "é.example",
]  # fmt: skip
PARSERS: dict[str, Callable[[Iterable[str], str], Iterator[Any]]] = {
    "domains": parse_domain_lines, "urls": parse_url_lines, "adblock": parse_adblock_lines, "rpz": parse_rpz_lines,
}  # fmt: skip


def lines(rng: random.Random, count: int) -> Iterator[str]:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789.-_*|^@$#!/:;=,~ \t\\'\"\x00\u00e9\u200b\ufffd"
    for _ in range(count):
        roll = rng.random()
        if roll < 0.3:
            yield "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        elif roll < 0.35:
            yield "a" * rng.choice((63, 64, 254, 256, 5000)) + ".example"
        else:
            line = list(rng.choice(LINE_SEEDS))
            for _ in range(rng.randint(0, 4)):
                op, at = rng.randrange(3), rng.randrange(len(line) + 1)
                if op == 0:
                    line.insert(at, rng.choice(alphabet))
                elif op == 1 and line:
                    del line[min(at, len(line) - 1)]
                elif line:
                    line[min(at, len(line) - 1)] = rng.choice(alphabet)
            yield "".join(line)


def fuzz_lines(count: int, seed: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, parse in PARSERS.items():
        rng = random.Random(f"{seed}/{name}")
        entries = bad = 0
        for item in parse(lines(rng, count), f"fuzz.{name}"):
            if type(item).__name__ == "BadLine":
                bad += 1
            else:
                entries += 1
        results[name] = {"lines": count, "entries": entries, "bad": bad}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--udp", type=int, default=900_000, help="UDP packets")
    parser.add_argument("--tcp", type=int, default=150_000, help="TCP messages")
    parser.add_argument("--lines", type=int, default=1_000_000, help="list lines per parser")
    parser.add_argument("--seconds", type=float, default=900.0, help="time bound for the packet phases")
    parser.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "big"))
    args = parser.parse_args()
    started = time.monotonic()
    deadline = started + args.seconds
    report: dict[str, Any] = {"seed": args.seed}
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        resolver = Resolver(Path(tmp))
        try:
            report["rss_kib_before"] = resolver.rss_kib()
            report["udp"] = fuzz_udp(resolver, args.udp, deadline, args.seed)
            report["alive_after_udp"] = resolver.answers()
            report["tcp"] = fuzz_tcp(resolver, args.tcp, deadline, args.seed)
            report["alive_after_tcp"] = resolver.answers()
            report["rss_kib_after"] = resolver.rss_kib()
        finally:
            report["exit_code_while_running"] = resolver.close()
            log = (Path(tmp) / "dns.log").read_text(errors="replace")
            report["tracebacks_in_log"] = log.count("Traceback")
    report["packets_total"] = report["udp"]["sent"] + report["tcp"]["sent"]
    report["packet_seconds"] = round(time.monotonic() - started, 1)
    report["lines"] = fuzz_lines(args.lines, args.seed)
    report["seconds"] = round(time.monotonic() - started, 1)
    report["max_rss_kib_fuzzer"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(report, indent=2))
    ok = report["alive_after_udp"] and report["alive_after_tcp"] and report["exit_code_while_running"] is None
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
