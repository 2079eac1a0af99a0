"""``bench.dns --traffic realistic``: unbound, dnsmasq and `filterproxy dns` on traffic a school would recognise.

    .venv/bin/python -m bench.dns --traffic realistic [--names 1000000] [--passes 5] [--quick] [--json FILE]

All three resolvers forward to one local authoritative stub (:mod:`bench.dns_upstream`, every
name under ``allowed.test`` exists, answers leave ``--delay-ms`` after the query) and block the
same listed names with their subdomains: unbound with ``local-zone always_nxdomain``, dnsmasq
with ``address=/name/``, filterproxy with the names as a plain list source. filterproxy runs as
``python -m filterproxy dns`` with a generated config: incidents recorded into a real SQLite
store, metrics served, as deployed.

Cases (streams in :mod:`bench.dns_traffic`): ``realistic``, ``misses``, ``blocked-first-seen`` and
``hot`` (today's replay). Each case runs ``--passes`` passes; every pass is a new file (new
first-seen names) sent once with dnsperf to each server in turn, and reports per pass the qps
and the server's CPU per completed query (user + system from /proc). Latency is measured per
case at a fixed 1,000 qps (dnsperf -Q 1000 -v) on a further new file.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import dns_traffic as traffic
from bench.dns import Server, blocked_names, percentile, wait_answering, wait_line
from tests.support import free_udp_tcp_port

SERVERS = ("unbound", "dnsmasq", "filterproxy")


def unbound(work: Path, names: list[str], port: int, upstream: int) -> list[str]:
    conf = work / "unbound-realistic.conf"
    with conf.open("w") as f:
        f.write(
            f"server:\n  interface: 127.0.0.1\n  port: {port}\n  num-threads: 1\n"
            '  do-daemonize: no\n  use-syslog: no\n  username: ""\n  chroot: ""\n'
            f'  directory: "{work}"\n  pidfile: ""\n  access-control: 127.0.0.0/8 allow\n'
            '  do-not-query-localhost: no\n  verbosity: 0\n  local-zone: "test." nodefault\n'
            "  so-rcvbuf: 4m\n  so-sndbuf: 4m\n"  # as filterproxy asks for its sockets
        )
        for name in names:
            f.write(f'  local-zone: "{name}." always_nxdomain\n')
        f.write(f'forward-zone:\n  name: "."\n  forward-addr: 127.0.0.1@{upstream}\n')
    return ["unbound", "-d", "-c", str(conf)]


def dnsmasq(work: Path, names: list[str], port: int, upstream: int) -> list[str]:
    conf = work / "dnsmasq-realistic.conf"
    with conf.open("w") as f:
        f.write(f"server=127.0.0.1#{upstream}\n")
        for name in names:
            f.write(f"address=/{name}/\n")  # NXDOMAIN for the name and its subdomains
    return [
        "dnsmasq", "-k", "--no-resolv", "--no-hosts", f"--conf-file={conf}", "--listen-address=127.0.0.1",
        "--bind-interfaces", f"--port={port}", "--user=root", "--cache-size=10000", "--log-facility=/dev/null",
    ]  # fmt: skip


def filterproxy(work: Path, names_file: Path, port: int, upstream: int) -> list[str]:
    data = work / "fp-data"
    (data / "local").mkdir(parents=True, exist_ok=True)
    source = {"id": "bench/blocked", "category": "adult", "path": str(names_file), "format": "plain"}
    config = {
        "data_dir": str(data),
        "lists": {
            "sources_file": None, "local_dir": str(data / "local"), "sources": [source], "update_interval_hours": 0,
        },
        "dns": {"listen": f"127.0.0.1:{port}", "upstreams": [f"127.0.0.1:{upstream}"]},
        "block": {"dns_answer": "nxdomain"},
        "incidents": {"store": "sqlite:incidents.db"},
        "metrics": {"listen": "127.0.0.1:0"},
        "proxy": {"enabled": False},
    }  # fmt: skip
    conf = work / "filterproxy-realistic.yaml"
    conf.write_text(json.dumps(config))  # JSON is YAML
    return [str(Path(sys.executable).with_name("filterproxy")), "--config", str(conf), "dns"]


def dnsperf_once(port: int, queries: Path, qps: int | None = None, seconds: float = 300) -> dict[str, Any]:
    """One pass through a binary query file: qps, completed, lost (and latencies with ``qps``)."""
    cmd = ["dnsperf", "-B", "-s", "127.0.0.1", "-p", str(port), "-d", str(queries), "-n", "1", "-q", "500"]
    cmd += ["-l", str(seconds), "-t", "2", "-b", "4096"]  # a 4 MB receive buffer: replies come in bursts
    if qps:
        cmd += ["-Q", str(qps), "-v"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    keys = ("Queries per second", "Queries completed", "Queries lost")
    found = {k: re.search(rf"{k}:\s+([\d.]+)", out) for k in keys}
    result: dict[str, Any] = {k: float(m.group(1)) if m else 0.0 for k, m in found.items()}
    result["latencies"] = [float(x) for x in re.findall(r"^> \S+ \S+ \S+ ([\d.]+)$", out, re.M)] if qps else []
    return result


def measure(server: Server, queries: Path) -> dict[str, float]:
    user0, sys0 = server.cpu()
    run = dnsperf_once(server.port, queries)
    user1, sys1 = server.cpu()
    done = max(run["Queries completed"], 1)
    return {
        "qps": run["Queries per second"],
        "user_us": (user1 - user0) / done * 1e6,
        "sys_us": (sys1 - sys0) / done * 1e6,
        "cpu_us": (user1 - user0 + sys1 - sys0) / done * 1e6,
        "lost": run["Queries lost"],
    }


def _answering(port: int, proc: subprocess.Popen[bytes]) -> None:
    wait_answering(port, proc)


def run_realistic(work: Path, args: argparse.Namespace) -> int:
    per_pass = 20_000 if args.quick else args.queries
    names = blocked_names(args.names)
    names_file = work / "names.txt"
    names_file.write_text("\n".join(names))
    population = traffic.Population(names)
    upstream_port, p1, p2, p3 = (free_udp_tcp_port() for _ in range(4))
    stub_cmd = [sys.executable, "-m", "bench.dns_upstream", str(upstream_port), "--delay-ms", str(args.delay_ms)]
    stub = Server("upstream", [stub_cmd], upstream_port, wait_line)
    commands = {
        "unbound": (unbound(work, names, p1, upstream_port), p1),
        "dnsmasq": (dnsmasq(work, names, p2, upstream_port), p2),
        "filterproxy": (filterproxy(work, names_file, p3, upstream_port), p3),
    }
    servers: dict[str, Server] = {}
    try:
        for label in SERVERS:
            if label in args.skip:
                continue
            command, port = commands[label]
            servers[label] = Server(label, [command], port, functools.partial(_answering, port))
            servers[label].rss_at_start = servers[label].rss_mb()
        results = cases(work, population, servers, per_pass, args)
    finally:
        for server in servers.values():
            server.stop()
        stub.stop()
    print_table(results, servers, args, per_pass)
    if args.json:
        started = {label: {"rss_mb": server.rss_at_start} for label, server in servers.items()}
        out = {"cases": results, "at_start": started, "load_average": os.getloadavg()}
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


def cases(
    work: Path, population: traffic.Population, servers: dict[str, Server], per_pass: int, args: argparse.Namespace
) -> dict[str, dict[str, dict[str, Any]]]:
    results: dict[str, dict[str, dict[str, Any]]] = {}
    hot_file = work / "hot.bin"
    traffic.write(hot_file, traffic.hot_stream(population, per_pass))
    warm = work / "warm.bin"  # the head and middle asked once before the realistic case
    traffic.write(warm, traffic.stream(population, "realistic", 2 * per_pass))
    for case in args.cases:
        for server in servers.values():  # warm for this case (the cases before may have pushed it out)
            if case in ("realistic", "hot"):
                dnsperf_once(server.port, warm if case == "realistic" else hot_file)
        passes: dict[str, list[dict[str, float]]] = {label: [] for label in servers}
        for number in range(args.passes):
            queries = hot_file
            if case != "hot":
                queries = work / f"{case}-{number}.bin"
                traffic.write(queries, traffic.stream(population, case, per_pass))
            for label, server in servers.items():
                passes[label].append(measure(server, queries))
        latency_file = hot_file
        if case != "hot":
            latency_file = work / f"{case}-latency.bin"
            traffic.write(latency_file, traffic.stream(population, case, int(args.latency_seconds * 1000)))
        results[case] = {}
        for label, server in servers.items():
            lat = dnsperf_once(server.port, latency_file, qps=1000, seconds=args.latency_seconds + 5)["latencies"]
            got = passes[label]
            results[case][label] = {
                "qps": statistics.median(p["qps"] for p in got),
                "cpu_us": statistics.median(p["cpu_us"] for p in got),
                "user_us": statistics.median(p["user_us"] for p in got),
                "sys_us": statistics.median(p["sys_us"] for p in got),
                "p50_ms": percentile(lat, 50) * 1e3,
                "p99_ms": percentile(lat, 99) * 1e3,
                "p999_ms": percentile(lat, 99.9) * 1e3,
                "rss_mb": server.rss_mb(),
                "lost": sum(p["lost"] for p in got),
                "passes_cpu_us": [round(p["cpu_us"], 1) for p in got],
                "passes_qps": [round(p["qps"]) for p in got],
            }
        print(f"# {case} done; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    return results


def print_table(
    results: dict[str, dict[str, dict[str, Any]]], servers: dict[str, Server], args: argparse.Namespace, per_pass: int
) -> None:
    print(f"# load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"# bench.dns --traffic realistic: {args.names:,} listed names, {args.passes} passes x {per_pass:,} queries "
        f"per case, upstream delay {args.delay_ms:g} ms; medians over passes; latency at 1k qps"
    )
    head = f"{'case':19} {'server':12} {'qps':>8} {'CPU us/q':>8} {'user':>6} {'sys':>6} {'p50 ms':>7} {'p99 ms':>7}"
    print(f"{head} {'p99.9':>7} {'RSS MB':>7} {'lost':>5}  CPU us/q per pass")
    for case, row in results.items():
        for label, r in row.items():
            print(
                f"{case:19} {label:12} {r['qps']:8.0f} {r['cpu_us']:8.1f} {r['user_us']:6.1f} {r['sys_us']:6.1f} "
                f"{r['p50_ms']:7.3f} {r['p99_ms']:7.3f} {r['p999_ms']:7.3f} {r['rss_mb']:7.0f} {r['lost']:5.0f}  "
                f"{' '.join(f'{c:.1f}' for c in r['passes_cpu_us'])}"
            )
        if "unbound" in row and "filterproxy" in row:
            fp, ub = row["filterproxy"], row["unbound"]
            print(
                f"{'':19} filterproxy/unbound: qps {fp['qps'] / max(ub['qps'], 1):.2f}x, "
                f"CPU per query {ub['cpu_us'] / max(fp['cpu_us'], 1e-9):.2f}x (unbound's / filterproxy's), "
                f"RSS {fp['rss_mb'] / max(ub['rss_mb'], 1):.2f}x"
            )
    for label, server in servers.items():
        print(f"# {label}: started in {server.load_seconds:.1f} s, RSS {server.rss_at_start:.0f} MB when ready")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--traffic", choices=("replay", "realistic"), default="replay", help="query stream kind")
    parser.add_argument("--passes", type=int, default=5, help="realistic: passes per case")
    parser.add_argument("--queries", type=int, default=100_000, help="realistic: queries per pass")
    parser.add_argument("--quick", action="store_true", help="realistic: 20,000 queries per pass, 3 s latency runs")
    parser.add_argument("--delay-ms", type=float, default=2.0, help="realistic: the upstream's answer delay")
    parser.add_argument("--json", metavar="FILE", help="realistic: write the results as JSON")
    parser.add_argument("--cases", type=lambda s: s.split(","), default=list(traffic.CASES), help="realistic: cases")
    parser.add_argument("--skip", type=lambda s: s.split(","), default=[], help="realistic: servers left out")
    parser.add_argument("--latency-seconds", type=float, default=5.0, help=argparse.SUPPRESS)
