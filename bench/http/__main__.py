"""HTTP proxy benchmark: filterproxy vs squid + squidGuard vs e2guardian vs mitmdump, one run.

    .venv/bin/python -m bench.http [--names 1000000] [--seconds 4] [--rounds 3] [--workers 2]

Every proxy gets the same 1M synthetic blocked domains and runs on 127.0.0.1 against one nginx
origin. Measured per proxy, in alternating rounds (medians reported): HTTP allowed and blocked
req/s (wrk, absolute-form requests), CONNECT refusals/s and new passthrough tunnels/s (CONNECT +
TLS handshake with the origin, asyncio client), server CPU per request (utime+stime of the whole
process tree over the window), RSS after loading and after the load. Then: the filter addon's CPU
per request against the same embedded mitmproxy without it, and 1 vs N filterproxy workers on
separate ports. Each measurement is bounded by --seconds; the whole run by the sizes given.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.http import peers
from bench.http.load import Result, connect_load, wrk, wrk_script
from bench.http.procs import cpu_seconds, rss_mb

REPO = Path(__file__).resolve().parents[2]
Measure = Callable[[list[int], float], Result]


def blocked_names(count: int) -> list[str]:
    return [f"b{i:07d}.blocked{i % 97}.test" for i in range(count)]


def measures(work: Path, names: list[str], origin: peers.Server) -> dict[str, Measure]:
    http_port, https_port = origin.ports
    sample = names[:: max(1, len(names) // 1000)][:1000]
    allowed = wrk_script(
        work / "allowed.lua", [(f"http://127.0.0.1:{http_port}/ok{i}", f"127.0.0.1:{http_port}") for i in range(50)]
    )
    blocked = wrk_script(work / "blocked.lua", [(f"http://{n}/page", n) for n in sample])

    def spread(script: Path) -> Measure:
        def run(ports: list[int], seconds: float) -> Result:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(len(ports)) as pool:
                results = list(pool.map(lambda p: wrk(p, script, seconds, 16), ports))
            return Result(
                sum(r.count for r in results),
                max(r.seconds for r in results),
                sum(r.errors for r in results),
                results[0].status,
            )

        return run

    return {
        "http_allowed": spread(allowed),
        "http_blocked": spread(blocked),
        "connect_refused": lambda ports, s: connect_load(
            ports, [f"{n}:443" for n in sample], passthrough=False, seconds=s
        ),
        "tunnels": lambda ports, s: connect_load(ports, [f"127.0.0.1:{https_port}"], passthrough=True, seconds=s),
    }


def measure(server: peers.Server, name: str, run: Measure, seconds: float) -> dict[str, float]:
    pids = server.pids()
    cpu0 = cpu_seconds(pids)
    result = run(server.ports, seconds)
    cpu = cpu_seconds(pids) - cpu0
    return {
        "rate": result.rate,
        "cpu_us": 1e6 * cpu / result.count if result.count else 0.0,
        "errors": result.errors,
        "count": result.count,
    }


CASES = {  # which measurements make sense for which server
    "squid": ("http_allowed", "http_blocked", "connect_refused", "tunnels"),
    "e2guardian": ("http_allowed", "http_blocked", "connect_refused", "tunnels"),
    "mitmdump": ("http_allowed", "tunnels"),
    "plain": ("http_allowed", "tunnels"),
    "filterproxy": ("http_allowed", "http_blocked", "connect_refused", "tunnels"),
}


def run_rounds(
    servers: dict[str, peers.Server], runs: dict[str, Measure], rounds: int, seconds: float
) -> dict[str, dict[str, list[dict[str, float]]]]:
    results: dict[str, dict[str, list[dict[str, float]]]] = {k: {} for k in servers}
    for r in range(rounds):
        order = list(servers) if r % 2 == 0 else list(reversed(servers))
        for key in order:
            for case in CASES[key]:
                row = measure(servers[key], case, runs[case], seconds)
                results[key].setdefault(case, []).append(row)
                print(
                    f"  round {r + 1} {key:12} {case:16} {row['rate']:9.0f}/s  {row['cpu_us']:7.0f} us"
                    f"  errors={row['errors']:.0f}",
                    flush=True,
                )
    return results


def median(rows: list[dict[str, float]], key: str) -> float:
    return statistics.median(row[key] for row in rows) if rows else float("nan")


def _cell(res: dict[str, list[dict[str, float]]], case: str, key: str, unit: str = "") -> str:
    return f"{median(res[case], key):,.0f}{unit}" if case in res else ""


def table(
    servers: dict[str, peers.Server],
    results: dict[str, dict[str, list[dict[str, float]]]],
    rss: dict[str, tuple[float, float]],
) -> str:
    lines = [
        "| proxy | HTTP allowed req/s | HTTP blocked req/s | CONNECT refused/s | new passthrough tunnels/s |"
        " CPU/allowed req | CPU/blocked req | CPU/refusal | CPU/tunnel | RSS idle -> after load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, server in servers.items():
        res = results[key]
        rates = [_cell(res, c, "rate") for c in ("http_allowed", "http_blocked", "connect_refused", "tunnels")]
        cpus = [_cell(res, c, "cpu_us", " us") for c in ("http_allowed", "http_blocked", "connect_refused", "tunnels")]
        lines.append(
            f"| {server.name} | " + " | ".join(rates + cpus) + f" | {rss[key][0]:.0f} -> {rss[key][1]:.0f} MB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip", default="", help="comma-separated servers to leave out (squid,e2guardian,...)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # squid's helpers and e2guardian drop to their own users: they must reach their files
        run(work, args)


def run(work: Path, args: argparse.Namespace) -> None:
    names = blocked_names(args.names)
    names_file = work / "blocked.txt"
    names_file.write_text("\n".join(names) + "\n")
    origin = peers.origin(work)
    servers: dict[str, peers.Server] = {}
    skip = set(args.skip.split(",")) if args.skip else set()
    try:
        starters: dict[str, Callable[[], peers.Server]] = {
            "squid": lambda: peers.squid_guard(work, names_file, origin.ports[0]),
            "e2guardian": lambda: peers.e2guardian(work, names_file),
            "mitmdump": lambda: peers.mitmdump(work),
            "plain": lambda: peers.filterproxy(work, names_file, no_filter=True),
            "filterproxy": lambda: peers.filterproxy(work, names_file),
        }
        for key, start in starters.items():
            if key in skip:
                continue
            print(f"starting {key} ...", flush=True)
            servers[key] = start()
            print(f"  {servers[key].name}: ready after {servers[key].load_seconds:.1f}s", flush=True)
        idle = {k: rss_mb(s.pids()) for k, s in servers.items()}
        runs = measures(work, names, origin)
        results = run_rounds(servers, runs, args.rounds, args.seconds)
        rss = {k: (idle[k], rss_mb(s.pids())) for k, s in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    report = table(servers, results, rss)
    overhead = addon_overhead(results)
    for server in servers.values():
        for note in server.notes:
            print("note:", server.name, note)
    scaling = scale(work, names_file, runs, args) if args.workers > 1 else ""
    origin.stop()
    print(f"\n## {args.names:,} blocked domains, {args.rounds} rounds of {args.seconds:.0f}s, medians\n")
    print(report)
    print(overhead)
    print(scaling)
    out = REPO / "artifacts" / "bench-http.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"results": results, "rss": rss}, indent=1))


def addon_overhead(results: dict[str, dict[str, list[dict[str, float]]]]) -> str:
    if "plain" not in results or "filterproxy" not in results:
        return ""
    lines = ["\n### filter addon overhead (same embedded mitmproxy with and without the addon)\n"]
    for case in ("http_allowed", "tunnels"):
        base, with_addon = median(results["plain"][case], "cpu_us"), median(results["filterproxy"][case], "cpu_us")
        lines.append(
            f"- {case}: {base:,.0f} us -> {with_addon:,.0f} us CPU per request ({100 * (with_addon / base - 1):+.1f}%)"
        )
    return "\n".join(lines)


def scale(work: Path, names_file: Path, runs: dict[str, Measure], args: argparse.Namespace) -> str:
    print(f"starting {args.workers} filterproxy workers ...", flush=True)
    server = peers.filterproxy(work, names_file, args.workers)
    lines = [
        "\n### scaling: filterproxy workers on separate ports (2 cores, shared with wrk)\n",
        "| workers | HTTP allowed req/s | HTTP blocked req/s | new passthrough tunnels/s |",
        "|---|---:|---:|---:|",
    ]
    try:
        for n in (1, args.workers):
            sub = peers.Server(server.name, server.ports[:n], server.procs[:n])
            row = [
                measure(sub, case, runs[case], args.seconds)["rate"]
                for case in ("http_allowed", "http_blocked", "tunnels")
            ]
            lines.append(f"| {n} | " + " | ".join(f"{v:,.0f}" for v in row) + " |")
    finally:
        server.stop()
    return "\n".join(lines)


if __name__ == "__main__":
    main()
