"""DNS benchmark: filterproxy against unbound and dnsmasq, same names, same query mix, one run.

    .venv/bin/python -m bench.dns [--names 1000000] [--seconds 8] [--rounds 3] [--core]
    .venv/bin/python -m bench.dns --echo --names 100000 --seconds 5   # the UDP floor only
    .venv/bin/python -m bench.dns --traffic realistic [--quick] [--json FILE]   # see bench.dns_realistic

The default (``--traffic replay``) measures an answer cache: a query file of few distinct names,
replayed. ``--traffic realistic`` (:mod:`bench.dns_realistic`) adds misses to a delayed upstream,
first-seen blocked subdomains, EDNS cookies, 0x20 and incident recording.

1M synthetic blocked names. filterproxy reads them as one plain list file, compiled and mapped
by the production lists loader (as `filterproxy serve` does); unbound gets a `local-zone
always_nxdomain` per name, dnsmasq an `addn-hosts` file. The query mix is 50% blocked names and
50% allowed names that each server answers locally: unbound local-data, dnsmasq addn-hosts,
filterproxy from its cache after one warm-up pass against a local stub upstream.

Servers run on 127.0.0.1 only; every dnsperf run is bounded by ``-l``. Reported: medians of
alternating rounds (qps, server CPU per query), latency percentiles at 1,000 qps
(dnsperf -Q 1000 -v), RSS after loading. Besides filterproxy as configured, it runs filterproxy
with recvmmsg/sendmmsg batching off (``FILTERPROXY_DNS_MMSG=0``), on the default asyncio loop
instead of uvloop, with ``fast_path: false`` (dnslib packs every answer, no hot lane) and two
filterproxy processes sharing the port with SO_REUSEPORT; each is
reported on its own line. The load average is printed with the results: the machine may be
shared, so server CPU per query is the steadier figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support import free_udp_tcp_port

ALLOWED = [f"ok{i}.allowed.test" for i in range(100)]
CLK = os.sysconf("SC_CLK_TCK")
CORE = ("unbound", "dnsmasq", "filterproxy")  # the comparison the resolver is judged by; the rest are variants


def blocked_names(count: int) -> list[str]:
    return [f"b{i:07d}.blocked{i % 97}.test" for i in range(count)]


# --- the filterproxy server process -------------------------------------------------------------


async def _serve(names_file: Path, port: int, reuse_port: bool, fast: bool) -> None:
    """The bench server: the names as a plain list source, compiled and mapped by the lists loader."""
    from dnslib import A
    from prometheus_client import CollectorRegistry

    from filterproxy.config.model import Config
    from filterproxy.dns.server import DnsServer
    from filterproxy.incidents.event import NullSink
    from filterproxy.lists.loader import load_engine
    from tests.dns.stub import Stub, _add

    for name in ALLOWED:
        _add(name, "A", A("192.0.2.1"), ttl=86400)
    stub = Stub()
    await stub.start()
    data = names_file.parent / f"data-{os.getpid()}"
    (data / "local").mkdir(parents=True)
    source = {"id": "bench/blocked", "category": "adult", "path": str(names_file), "format": "plain"}
    config = Config.model_validate(
        {
            "data_dir": str(data),
            "lists": {"sources_file": None, "local_dir": str(data / "local"), "sources": [source], "watch": False},
            "dns": {"listen": f"127.0.0.1:{port}", "upstreams": [f"127.0.0.1:{stub.port}"], "fast_path": fast},
            "block": {"dns_answer": "nxdomain"},
        }
    )
    engine = load_engine(config)
    gc.collect()
    gc.freeze()  # as `filterproxy dns` does after loading
    server = DnsServer(config, engine, NullSink(), CollectorRegistry(), reuse_port=reuse_port)
    await server.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


def serve_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--names", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--reuse-port", action="store_true")
    parser.add_argument("--dnslib", action="store_true", help="fast_path: false (dnslib packs every answer)")
    parser.add_argument("--asyncio", action="store_true", help="the default asyncio event loop, not uvloop")
    parser.add_argument("--no-mmsg", action="store_true", help="recvfrom/sendto per datagram, not recvmmsg/sendmmsg")
    args = parser.parse_args(argv)
    if args.no_mmsg:
        os.environ["FILTERPROXY_DNS_MMSG"] = "0"
    if not args.asyncio:
        import uvloop  # a dependency: `filterproxy dns` runs on it

        uvloop.install()
    asyncio.run(_serve(args.names, args.port, args.reuse_port, not args.dnslib))


# --- the floor: a Python UDP echo server doing no DNS work -------------------------------------


async def _echo(port: int, mode: str) -> None:
    """Answer every datagram with itself, QR set: what sockets alone cost a Python server."""
    loop = asyncio.get_running_loop()

    def reply(data: bytes) -> bytes:
        return data[:2] + bytes([data[2] | 0x80]) + data[3:]

    if mode == "transport":

        class Echo(asyncio.DatagramProtocol):
            def connection_made(self, t: asyncio.BaseTransport) -> None:
                self.t: Any = t

            def datagram_received(self, data: bytes, addr: Any) -> None:
                self.t.sendto(reply(data), addr)

        await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", port))
    else:
        from filterproxy.dns.udp import UdpEndpoint

        class Echoes:  # the hot lane's place: every datagram has a ready answer
            def answer(self, data: bytes, host: str, now: float) -> bytes:
                return reply(data)

            def answered(self, now: float) -> None:
                return None

        endpoint = UdpEndpoint.bind("127.0.0.1", port, False, lambda d, a: None, Echoes(), mmsg=mode == "mmsg")
        if mode == "mmsg" and endpoint.mmsg is None:
            raise RuntimeError("recvmmsg/sendmmsg are not available here")
        endpoint.start(loop)
    print("ready", flush=True)
    await asyncio.Event().wait()


def echo_main(argv: list[str]) -> None:
    port, mode, use_uvloop = int(argv[0]), argv[1], argv[2] == "uvloop"
    if use_uvloop:
        import uvloop

        uvloop.install()
    asyncio.run(_echo(port, mode))


def echo_floor(work: Path, queries: Path, seconds: float) -> None:
    """``bench.dns --echo``: the echo server via asyncio's transport, recvfrom/sendto, recvmmsg/sendmmsg."""
    for transport in ("transport", "reader", "mmsg"):
        for loop in ("uvloop", "asyncio"):
            port = free_udp_tcp_port()
            cmd = [sys.executable, "-m", "bench.dns", "echo", str(port), transport, loop]
            server = Server(f"echo-{transport}-{loop}", [cmd], port, wait_line)
            try:
                dnsperf(port, queries, 1)
                before = sum(server.cpu())
                rate, _ = dnsperf(port, queries, seconds)
                cpu = (sum(server.cpu()) - before) / max(rate * seconds, 1) * 1e6
            finally:
                server.stop()
            print(f"echo via {transport:9} on {loop:7}: {rate:9.0f} qps {cpu:6.1f} us CPU per datagram")


# --- peers --------------------------------------------------------------------------------------


def unbound_conf(work: Path, names: list[str], port: int, threads: int = 1) -> list[str]:
    conf = work / "unbound.conf"
    with conf.open("w") as f:
        f.write(
            f"server:\n  interface: 127.0.0.1\n  port: {port}\n  num-threads: {threads}\n"
            '  do-daemonize: no\n  use-syslog: no\n  username: ""\n  chroot: ""\n'
            f'  directory: "{work}"\n  pidfile: ""\n  access-control: 127.0.0.0/8 allow\n'
            "  do-not-query-localhost: yes\n  verbosity: 0\n"
        )
        for name in names:
            f.write(f'  local-zone: "{name}." always_nxdomain\n')
        for name in ALLOWED:
            f.write(f'  local-data: "{name}. 86400 IN A 192.0.2.1"\n')
    return ["unbound", "-d", "-c", str(conf)]


def dnsmasq_conf(work: Path, names: list[str], port: int) -> list[str]:
    hosts = work / "blocked.hosts"
    with hosts.open("w") as f:
        for name in names:
            f.write(f"0.0.0.0 {name}\n")
        for name in ALLOWED:
            f.write(f"192.0.2.1 {name}\n")
    return [
        "dnsmasq",
        "-k",
        "--no-resolv",
        "--no-hosts",
        f"--addn-hosts={hosts}",
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        f"--port={port}",
        "--user=root",
        "--cache-size=10000",
        "--log-facility=/dev/null",
    ]


# --- measuring ----------------------------------------------------------------------------------


class Server:
    def __init__(
        self, label: str, commands: list[list[str]], port: int, ready: Callable[[subprocess.Popen[bytes]], None]
    ) -> None:
        self.label, self.port = label, port
        started = time.monotonic()
        self.log = Path(tempfile.mkstemp(prefix=f"bench-dns-{label.split()[0]}-", suffix=".log")[1])
        with self.log.open("wb") as log:  # a server that fails to start says why here
            self.procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=log) for c in commands]
        try:
            for proc in self.procs:
                ready(proc)
        except BaseException:
            print(f"bench.dns: {label} did not start; its log:\n{self.log.read_text()[-3000:]}", file=sys.stderr)
            self.stop()
            raise
        self.load_seconds = time.monotonic() - started
        self.rss_at_start = 0.0  # set by callers that want the footprint before any traffic

    def cpu(self) -> tuple[float, float]:
        """CPU seconds so far, (user, system), summed over the server's processes and the
        children they started (a store writer in its own process counts as the server's)."""
        user = system = 0.0
        for pid in _with_descendants([proc.pid for proc in self.procs]):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone since it was listed
            user += (int(fields[11]) + int(fields[13])) / CLK  # its own and its waited-for children's
            system += (int(fields[12]) + int(fields[14])) / CLK
        return user, system

    def rss_mb(self) -> float:
        total = 0
        for proc in self.procs:
            m = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{proc.pid}/status").read_text())
            total += int(m.group(1)) if m else 0
        return total / 1024

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.log.unlink(missing_ok=True)


def _with_descendants(pids: list[int]) -> list[int]:
    out, todo = [], list(pids)
    while todo:
        pid = todo.pop()
        out.append(pid)
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # the task ended since it was listed
                todo += [int(c) for c in children.read_text().split()]
    return out


def wait_answering(port: int, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    import dns.message
    import dns.query

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            dns.query.udp(dns.message.make_query(ALLOWED[0], "A"), "127.0.0.1", port=port, timeout=0.5)
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} never answered")


def wait_line(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if b"ready" not in line:
        raise RuntimeError("filterproxy bench server failed to start")


def dnsperf(
    port: int, queries: Path, seconds: float, qps: int | None = None, once: bool = False
) -> tuple[float, list[float]]:
    """dnsperf for ``seconds`` (or ``once`` through the query file, at most ``seconds``): (qps, latencies)."""
    cmd = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(queries), "-l", str(seconds), "-q", "200"]
    if once:
        cmd += ["-n", "1"]
    if qps:
        cmd += ["-Q", str(qps), "-v"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    m = re.search(r"Queries per second:\s+([\d.]+)", out)
    lat = [float(x) for x in re.findall(r"^> \S+ \S+ \S+ ([\d.]+)$", out, re.M)] if qps else []
    return (float(m.group(1)) if m else 0.0), lat


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:
        serve_main(argv[1:])
        return 0
    if argv[:1] == ["echo"]:
        echo_main(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--echo", action="store_true", help="only measure the UDP floor: a Python echo server")
    parser.add_argument(
        "--core", action="store_true", help="only unbound, dnsmasq and filterproxy as configured (no variants)"
    )
    from bench.dns_realistic import add_arguments, run_realistic

    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.latency_seconds = 3.0
    for tool in ("dnsperf", "unbound", "dnsmasq"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            print(f"bench.dns: {tool} missing (scripts/bootstrap.sh bench installs it)")
            return 2
    work = Path(tempfile.mkdtemp(prefix="bench-dns-"))
    try:
        return run_realistic(work, args) if args.traffic == "realistic" else run(work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args: argparse.Namespace) -> int:
    names = blocked_names(args.names)
    names_file = work / "names.txt"
    names_file.write_text("\n".join(names))
    rng = random.Random(7)
    queries = work / "queries.txt"
    with queries.open("w") as f:
        for i in range(200_000):
            f.write(f"{rng.choice(names) if i % 2 else rng.choice(ALLOWED)} A\n")
    if args.echo:
        echo_floor(work, queries, args.seconds)
        return 0
    me = [sys.executable, "-m", "bench.dns", "serve", "--names", str(names_file)]
    builders: dict[str, Callable[[], Server]] = {}
    p1, p2, p3, p4, p5, p6, p7 = (free_udp_tcp_port() for _ in range(7))
    builders["unbound"] = lambda: Server(
        "unbound", [unbound_conf(work, names, p1)], p1, lambda p: wait_answering(p1, p)
    )
    builders["dnsmasq"] = lambda: Server(
        "dnsmasq", [dnsmasq_conf(work, names, p2)], p2, lambda p: wait_answering(p2, p)
    )
    builders["filterproxy"] = lambda: Server("filterproxy", [[*me, "--port", str(p3)]], p3, wait_line)
    builders["filterproxy, no mmsg"] = lambda: Server(
        "filterproxy plain", [[*me, "--port", str(p7), "--no-mmsg"]], p7, wait_line
    )
    builders["filterproxy, asyncio loop"] = lambda: Server(
        "filterproxy asyncio", [[*me, "--port", str(p6), "--asyncio"]], p6, wait_line
    )
    builders["filterproxy, dnslib path only"] = lambda: Server(
        "filterproxy dnslib", [[*me, "--port", str(p5), "--dnslib"]], p5, wait_line
    )
    builders["filterproxy x2 (SO_REUSEPORT)"] = lambda: Server(
        "filterproxy x2", [[*me, "--port", str(p4), "--reuse-port"]] * 2, p4, wait_line
    )
    if args.core:
        builders = {label: build for label, build in builders.items() if label in CORE}
    servers: dict[str, Server] = {}
    try:
        for label, build in builders.items():
            servers[label] = build()
        return report(servers, queries, args)
    finally:
        for server in servers.values():
            server.stop()


def report(servers: dict[str, Server], queries: Path, args: argparse.Namespace) -> int:
    for server in servers.values():  # warm: every query of the file asked once (allowed names cached)
        dnsperf(server.port, queries, 60, once=True)
        dnsperf(server.port, queries, 1)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    qps: dict[str, list[float]] = {k: [] for k in servers}
    cpu: dict[str, list[float]] = {k: [] for k in servers}
    user: dict[str, list[float]] = {k: [] for k in servers}
    for _round in range(args.rounds):
        for label, server in servers.items():
            (user0, sys0) = server.cpu()
            rate, _ = dnsperf(server.port, queries, args.seconds)
            (user1, sys1) = server.cpu()
            per_query = 1e6 / max(rate * args.seconds, 1)
            qps[label].append(rate)
            cpu[label].append((user1 - user0 + sys1 - sys0) * per_query)
            user[label].append((user1 - user0) * per_query)
    print(f"# load average before / after the rounds: {load_before} / {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"# bench.dns: {args.names:,} blocked names, 50% blocked / 50% locally answered, "
        f"{args.rounds} alternating rounds of {args.seconds:g} s, medians"
    )
    print(
        f"{'server':32} {'qps':>9} {'CPU us/q':>9} {'user us/q':>9} {'RSS MB':>8} {'load s':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'p99.9 ms':>8}  (latency at 1k qps)"
    )
    for label, server in servers.items():
        _, lat = dnsperf(server.port, queries, 5, qps=1000)
        print(
            f"{label:32} {statistics.median(qps[label]):9.0f} {statistics.median(cpu[label]):9.1f} "
            f"{statistics.median(user[label]):9.2f} "
            f"{server.rss_mb():8.0f} {server.load_seconds:7.1f} {percentile(lat, 50) * 1e3:7.3f} "
            f"{percentile(lat, 99) * 1e3:7.3f} {percentile(lat, 99.9) * 1e3:8.3f}"
        )
    base = statistics.median(qps["unbound"])
    fp = statistics.median(qps["filterproxy"])
    print(
        f"# filterproxy / unbound qps ratio (same run): {fp / base:.2f}; "
        f"RSS ratio: {servers['filterproxy'].rss_mb() / servers['unbound'].rss_mb():.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
