"""Benchmark of the incident queue: ingest into SQLite and PostgreSQL, and DNS latency with/without recording.

    .venv/bin/python -m bench.incidents [--events 200000] [--seconds 10] [--qps 1000] [--rounds 3]
                                        [--skip-pg] [--skip-dns]

1. Ingest: a producer thread submits ``--events`` block events as fast as it can (every event a new
   incident: distinct client+site, the worst case; then a run where 9 in 10 fold); the figure is
   events written per second from the first submit until the store has them all (``flush``),
   plus the producer-side cost of one ``submit()`` call.
2. The same into a throwaway PostgreSQL 15 (fsync on, loopback, unix socket dir in a temp dir).
3. DNS: the real resolver (filterproxy.dns) with a local stub upstream, dnsperf sending ``--qps``
   blocked queries per second for ``--seconds`` from 1000 distinct names, alternating a NullSink and the
   SQLite queue for ``--rounds`` rounds; reports dnsperf's latency, the CPU of this process (resolver +
   writer) per query, the incidents written meanwhile, and medians per mode.
Everything is on 127.0.0.1 and each step is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from filterproxy.incidents.event import BlockEvent, IncidentSink, NullSink, new_reference
from filterproxy.incidents.queue import IncidentQueue
from filterproxy.incidents.settings import IncidentSettings
from filterproxy.model import Action, Category, Reason, Verdict
from tests.support import Loop


def events(count: int, fold_every: int) -> list[BlockEvent]:
    now = datetime.now(UTC)
    out = []
    for n in range(count):
        key = n // fold_every
        site = f"site{key % 5000}.example"
        verdict = Verdict(Action.BLOCK, Reason.CATEGORY, "pupils", f"www.{site}", Category.GAMBLING,
                          "ut1/gambling", site, site)  # fmt: skip
        client = f"10.{key // 5000 // 250 % 250}.{key // 5000 % 250}.{key % 250}"
        out.append(BlockEvent(now, "dns", client, verdict, new_reference(), qtype="A"))
    return out


def ingest(store: str, data_dir: Path, count: int, fold_every: int) -> dict[str, Any]:
    batch = list(events(count, fold_every))
    settings = IncidentSettings(store=store, queue_size=count + 1, batch_size=5000, flush_interval=0.1)
    registry = CollectorRegistry()
    queue = IncidentQueue(settings, data_dir, registry, node="bench")
    queue.start_sync()
    started = time.perf_counter()
    for event in batch:
        queue.submit(event)
    submitted = time.perf_counter()
    assert queue.flush(timeout=300), "queue did not drain"
    done = time.perf_counter()
    queue.stop_sync()
    written = registry.get_sample_value("filterproxy_incidents_written_total") or 0
    return {
        "store": store.split(":")[0], "events": count, "incidents": int(written),
        "events_per_s": round(count / (done - started)), "incidents_per_s": round(written / (done - started)),
        "submit_us": round((submitted - started) / count * 1e6, 2),
    }  # fmt: skip


def ingest_rounds(make_store: Any, tmp: Path, count: int, fold_every: int, rounds: int) -> dict[str, Any]:
    """``rounds`` runs into fresh stores; the median rate (runs on a shared machine differ up to 2x)."""
    runs = [ingest(make_store(f"{fold_every}-{n}"), tmp, count, fold_every) for n in range(rounds)]
    rates = [r["events_per_s"] for r in runs]
    best = sorted(runs, key=lambda r: r["events_per_s"])[len(runs) // 2]
    return {**best, "fold_every": fold_every, "events_per_s_runs": rates}


def dnsperf(port: int, names: Path, qps: int, seconds: int) -> dict[str, float]:
    cmd = ["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", str(names), "-Q", str(qps), "-l", str(seconds)]
    out = subprocess.run([*cmd, "-c", "4"], capture_output=True, text=True, timeout=seconds + 60).stdout
    found = {
        "qps": r"Queries per second:\s+([\d.]+)",
        "avg_ms": r"Average Latency \(s\):\s+([\d.]+)",
        "stddev_ms": r"Latency StdDev \(s\):\s+([\d.]+)",
        "lost": r"Queries lost:\s+(\d+)",
    }
    result = {}
    for key, pattern in found.items():
        match = re.search(pattern, out)
        value = float(match.group(1)) if match else float("nan")
        result[key] = round(value * 1000, 3) if key.endswith("_ms") else value
    return result


def dns_run(tmp: Path, engine: Any, names: Path, record: bool, qps: int, seconds: int) -> dict[str, Any]:
    from filterproxy.config.model import Config
    from filterproxy.dns.server import DnsServer
    from tests.dns.stub import Stub

    bg, stub, registry = Loop(), Stub(), CollectorRegistry()
    bg.run(stub.start(None))
    dns = {"listen": "127.0.0.1:0", "upstreams": [f"127.0.0.1:{stub.port}"]}
    config = Config.model_validate({"data_dir": str(tmp), "dns": dns, "block": {"dns_answer": "nxdomain"}})
    sink: IncidentSink = NullSink()
    queue = None
    if record:
        settings = IncidentSettings(store=f"sqlite:{tmp / f'dns-{time.time_ns()}.db'}")
        sink = queue = IncidentQueue(settings, tmp, registry, node="bench")
        bg.run(queue.start())
    server = DnsServer(config, engine, sink, registry)
    bg.run(server.start())
    cpu = time.process_time()  # this process: resolver, incident writer and stub (dnsperf runs apart)
    figures: dict[str, Any] = {"recording": "sqlite" if record else "off"}
    figures.update(dnsperf(server.address[1], names, qps, seconds))
    bg.run(server.stop())
    if queue is not None:
        bg.run(queue.stop())  # the drain counts too: recording costs what it costs
        sample = registry.get_sample_value
        figures["events"] = sample("filterproxy_incidents_events_received_total", {"protocol": "dns"})
        figures["incidents"] = sample("filterproxy_incidents_written_total")
        figures["folded"] = sample("filterproxy_incidents_folded_total")
    figures["cpu_us_per_query"] = round((time.process_time() - cpu) / max(1.0, figures["qps"] * seconds) * 1e6, 1)
    bg.run(stub.stop())
    bg.close()
    return figures


def dns_latency(tmp: Path, qps: int, seconds: int, rounds: int) -> dict[str, Any]:
    from filterproxy.lists.testing import make_engine

    sites = [f"blocked{i}.example" for i in range(1000)]
    names = tmp / "names.txt"
    names.write_text("".join(f"www.{s} A\n" for s in sites))
    engine = make_engine(deny={"gambling": sites})
    runs = [dns_run(tmp, engine, names, record, qps, seconds) for _ in range(rounds) for record in (False, True)]
    summary = {}
    for mode in ("off", "sqlite"):
        mine = [r for r in runs if r["recording"] == mode]
        summary[mode] = {k: statistics.median(r[k] for r in mine) for k in ("avg_ms", "stddev_ms", "cpu_us_per_query")}
    return {"runs": runs, "median": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--qps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per case (the median is reported)")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-dns", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {"ingest": []}
    with tempfile.TemporaryDirectory(prefix="fp-bench-incidents-") as name:
        tmp = Path(name)
        stores: list[tuple[Any, int]] = [(lambda n: f"sqlite:{tmp / f'ingest-{n}.db'}", args.events)]
        if not args.skip_pg:
            pg_root = Path(tempfile.mkdtemp(prefix="fp-bench-pg-"))  # postgres must reach it: not under tmp
            from tests.incidents.conftest import Postgres

            server = Postgres.create(pg_root, fsync=True)  # stopped below
            stores.append((lambda n: server.create_db(), args.events // 4))  # fresh database: nothing to fold into
        try:
            for make_store, count in stores:
                for fold_every in (1, 10):
                    report["ingest"].append(ingest_rounds(make_store, tmp, count, fold_every, args.rounds))
        finally:
            if not args.skip_pg:
                server.stop()
                shutil.rmtree(pg_root, ignore_errors=True)
        if not args.skip_dns:
            report["dns"] = dns_latency(tmp, args.qps, args.seconds, args.rounds)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
