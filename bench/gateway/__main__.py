"""Gateway throughput: allowed HTTP traffic through the lab gateway, four ways, same run.

    .venv/bin/python -m bench.gateway [--seconds 4] [--rounds 3] [--connections 32] [--workloads keepalive,close]

Workloads: keep-alive connections, and a new connection per request (Connection: close: what a
school at 9am looks like to the gateway). Cases, alternated round by round, medians reported:
  plain     the kernel forwards; no nftables table at all (the ceiling)
  nat       the kernel forwards and masquerades, as a school's NAT router does (conntrack on)
  steered   filterproxy's steered ruleset and node running; the origin is not a steered address
  strict    every web connection redirected to filterproxy's transparent proxy
  squid     squid + squidGuard intercepting in the same position (TCP 80 redirected to it)
wrk runs in the pupil namespace against the origin in the internet namespace; everything lives
in namespaces the benchmark creates and deletes. CPU is the gateway-side process tree's.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.gateway import lab as L
from bench.gateway.peers import PROXY_PORT, start_squid

URL = f"http://{L.ORIGIN}/"
CLK_TCK = 100


def tree_cpu(root: int) -> float:
    """CPU seconds of a process and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    tree, frontier = {root}, [root]
    while frontier:
        current = frontier.pop()
        children = [p for p, parent in parents.items() if parent == current and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(p, 0.0) for p in tree)


WORKLOADS = {"keepalive": [], "close": ["-H", "Connection: close"]}  # close: a new connection per request


def wrk(lab: L.Lab, seconds: int, connections: int, workload: str) -> dict[str, float]:
    argv = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
            *WORKLOADS[workload], URL]
    out = lab.must(lab.client, *argv)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses:|timeout) (\d+)", out))
    return {"rps": rps, "requests": total, "errors": errors}


NAT = """table ip benchnat {
    chain post { type nat hook postrouting priority srcnat; policy accept; oifname "wan0" masquerade; }
}
"""


def set_case(lab: L.Lab, case: str) -> None:
    lab.sh(lab.gateway, "nft", "delete", "table", "inet", "filterproxy")
    lab.sh(lab.gateway, "nft", "delete", "table", "ip", "benchnat")
    if case == "nat":
        lab.must(lab.gateway, "nft", "-f", "-", text=NAT)
    elif case == "steered":
        lab.load_gateway("steered")
    elif case == "strict":
        lab.load_gateway("strict")
    elif case == "squid":
        lab.load_gateway("strict", proxy_port=PROXY_PORT)


def run_case(lab: L.Lab, case: str, pids: dict[str, int], args: argparse.Namespace) -> dict[str, Any]:
    set_case(lab, case)
    lab.sh(lab.client, "curl", "-s", "-o", "/dev/null", "-m", "5", URL)  # warm the path
    owner = pids.get("squid" if case == "squid" else "node")
    cpu0 = tree_cpu(owner) if owner else 0.0
    proxied0 = lab.metrics().get("filterproxy_http_requests_total", 0.0)
    result: dict[str, Any] = {
        "case": case, "workload": args.workload_now, **wrk(lab, args.seconds, args.connections, args.workload_now)
    }
    result["proxy_cpu_s"] = (tree_cpu(owner) - cpu0) if owner else 0.0
    result["filterproxy_requests"] = lab.metrics().get("filterproxy_http_requests_total", 0.0) - proxied0
    return result


def summarise(results: list[dict[str, Any]], cases: list[str]) -> list[dict[str, Any]]:
    rows = []
    plain = statistics.median(r["rps"] for r in results if r["case"] == "plain")
    for case in cases:
        mine = [r for r in results if r["case"] == case]
        rps = statistics.median(r["rps"] for r in mine)
        requests = sum(r["requests"] for r in mine)
        cpu = sum(r["proxy_cpu_s"] for r in mine)
        rows.append({
            "case": case, "rps_median": round(rps), "rps_runs": [round(r["rps"]) for r in mine],
            "vs_plain": round(rps / plain, 3), "errors": sum(r["errors"] for r in mine),
            "proxy_cpu_us_per_request": round(cpu / requests * 1e6, 1) if requests else None,
            "requests_seen_by_filterproxy": int(sum(r["filterproxy_requests"] for r in mine)),
        })
    return rows


def steering_cost(lab: L.Lab, count: int = 5000) -> dict[str, float]:
    """Wall time for the steering set to put COUNT new addresses into the kernel (one batch)."""
    import asyncio
    import ipaddress

    from filterproxy.gateway.settings import GatewaySettings
    from filterproxy.gateway.steering import SteeringSet

    wrapper = lab.workdir / "nft-gateway"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {lab.gateway} nft "$@"\n')
    wrapper.chmod(0o755)
    lab.load_gateway("steered")
    steering = SteeringSet(GatewaySettings(lan_interfaces=["lan0"], nft=str(wrapper)))
    base = int(ipaddress.ip_address("100.64.0.0"))
    addresses = [ipaddress.ip_address(base + i) for i in range(count)]
    started = time.perf_counter()
    steering.add(addresses, 300)
    queued = time.perf_counter()
    asyncio.run(steering.flush())
    done = time.perf_counter()
    listed = lab.must(lab.gateway, "nft", "list", "set", "inet", "filterproxy", "steer4").count("timeout 5m30s")
    return {"addresses": count, "add_us_per_address": round((queued - started) / count * 1e6, 2),
            "batch_ms": round((done - queued) * 1e3, 1), "in_kernel": listed}


def measure(lab: L.Lab, cases: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    lab.create()
    lab.start_origin(workers=1)
    lab.start_public_dns()
    lab.start_node("steered")
    pids = {"node": lab.procs[-1].pid}
    if "squid" in cases:
        start_squid(lab)
        pids["squid"] = lab.procs[-1].pid
    args.steering = steering_cost(lab)
    print(f"steering set: {args.steering}", flush=True)
    results: list[dict[str, Any]] = []
    for workload in args.workloads:
        args.workload_now = workload
        for round_no in range(args.rounds):
            for case in cases if round_no % 2 == 0 else list(reversed(cases)):
                results.append(run_case(lab, case, pids, args))
                print(f"{workload:9} round {round_no + 1} {case:8} {results[-1]['rps']:>10.0f} req/s", flush=True)
    return results


def report(results: list[dict[str, Any]], cases: list[str], args: argparse.Namespace, elapsed: float) -> None:
    out: dict[str, Any] = {"seconds": args.seconds, "rounds": args.rounds, "connections": args.connections,
                           "url": URL, "elapsed_s": round(elapsed, 1), "steering": args.steering, "workloads": {}}
    for workload in args.workloads:
        rows = summarise([r for r in results if r["workload"] == workload], cases)
        out["workloads"][workload] = rows
        print(f"\n{workload}: | case | req/s (median) | runs | vs plain | proxy CPU us/req | seen by filterproxy "
              "| errors |")
        print("|---|---:|---|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['case']} | {r['rps_median']} | {r['rps_runs']} | {r['vs_plain']} | "
                  f"{r['proxy_cpu_us_per_request']} | {r['requests_seen_by_filterproxy']} | {r['errors']} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2))
    print(f"\nwritten to {args.out}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=4, help="length of one wrk run (max 30)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (max 5)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workloads", default="keepalive,close", help="keepalive and/or close")
    parser.add_argument("--out", type=Path, default=L.REPO / "artifacts" / "bench_gateway.json")
    args = parser.parse_args(argv)
    args.seconds, args.rounds = max(1, min(args.seconds, 30)), max(1, min(args.rounds, 5))
    args.workloads = [w for w in args.workloads.split(",") if w in WORKLOADS] or ["keepalive"]
    missing = L.available() or (None if shutil.which("wrk") else "wrk is not installed")
    if missing:
        print(f"bench.gateway: cannot run: {missing}", file=sys.stderr)
        return 2
    cases = ["plain", "nat", "steered", "strict"]
    if shutil.which("squid") and shutil.which("squidGuard"):
        cases.append("squid")
    lab = L.Lab(Path(tempfile.mkdtemp(prefix="bench-gateway-")))
    started = time.monotonic()
    try:
        results = measure(lab, cases, args)
    finally:
        lab.destroy()
        shutil.rmtree(lab.workdir, ignore_errors=True)
    report(results, cases, args, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
