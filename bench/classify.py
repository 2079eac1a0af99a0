"""Benchmark of the classification core: build, load, memory, lookups, reload; against a Python set.

    .venv/bin/python -m bench.classify [--total 5000000] [--queries 300000]

Datasets: (a) every list in ../shared/data/blocklists, (b) the same plus synthetic domains up to
``--total`` names. Each measurement runs in a fresh child process so RSS figures are not polluted
by earlier steps; the build itself runs in a child as the service does on reload.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from filterproxy.lists.settings import SourceSettings
from filterproxy.model import Category
from tests.shared_lists import all_sources, available

HERE = Path(__file__).resolve().parents[1]


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def synthetic_file(path: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    tlds = ["com", "net", "org", "info", "xyz", "co.uk", "de", "fr", "io", "online"]
    with path.open("w") as out:
        for i in range(count):
            label = "".join(rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(6, 16)))
            out.write(f"{label}{i % 97}.{rng.choice(tlds)}\n")


def run_child(func: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run ``func`` of this module in a fresh interpreter; return its JSON result and max RSS."""
    code = f"import json,sys; from bench.classify import {func}; print(json.dumps({func}(json.loads(sys.argv[1]))))"
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(spec)], cwd=HERE, stdout=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{func} failed with status {status}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result["child_max_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
    return result


def child_build(spec: dict[str, Any]) -> dict[str, Any]:
    from filterproxy.lists.build import build_to_file

    sources = [SourceSettings.model_validate(s) for s in spec["sources"]]
    started = time.perf_counter()
    index = build_to_file(sources, 0.2, Path(spec["out"]))
    return {"build_seconds": round(time.perf_counter() - started, 2), "entries": index.entry_count}


def _touch(index: Any) -> int:
    """Read every page of the mapped tables, as a long-running server eventually does."""
    total = 0
    for table in (index.domains, index.urls, index.url_hosts, index.exceptions):
        if table is None:
            continue
        for arr in (table.keys, table.values):
            total += sum(arr[i] for i in range(0, len(arr), 512))
    return total


def _queries(spec: dict[str, Any], count: int) -> list[str]:
    rng = random.Random(3)
    names = Path(spec["sample"]).read_text().split()
    return [f"www.{rng.choice(names)}" if i % 2 else f"nx{i}.example-{i % 1000}.com" for i in range(count)]


def child_load(spec: dict[str, Any]) -> dict[str, Any]:
    import ipaddress
    from datetime import UTC, datetime

    from filterproxy.classify.classifier import Classifier
    from filterproxy.classify.policy import Policy
    from filterproxy.classify.settings import PolicySettings
    from filterproxy.lists.store import read_index
    from filterproxy.lists.suffixes import bundled_suffixes
    from filterproxy.model import Query

    queries = _queries(spec, spec["queries"])
    bare = rss_kib()
    started = time.perf_counter()
    index = read_index(Path(spec["out"]))
    load_seconds = time.perf_counter() - started
    _touch(index)
    loaded = rss_kib()
    unique = len(index.domains) if index.domains else 0
    classifier = Classifier(Policy(PolicySettings()), index, suffixes=bundled_suffixes())
    client, now = ipaddress.ip_address("10.0.0.1"), datetime.now(UTC)
    prepared = [Query(client, q, now) for q in queries]
    started = time.perf_counter()
    blocked = sum(1 for q in prepared if classifier.classify(q).blocked)
    rate = len(prepared) / (time.perf_counter() - started)
    split = {}
    for label, part in (("unlisted", prepared[0::2]), ("listed_repeat", prepared[1::2])):
        started = time.perf_counter()
        for q in part:
            classifier.classify(q)
        split[label] = round(len(part) / (time.perf_counter() - started))
    return {"load_seconds": round(load_seconds, 3), "unique_domains": unique,
            "rss_above_bare_mib": round((loaded - bare) / 1024, 1),
            "bytes_per_domain": round((loaded - bare) * 1024 / max(unique, 1), 1),
            "classify_per_second": round(rate), "blocked_share": round(blocked / len(prepared), 3), **split}


def child_set(spec: dict[str, Any]) -> dict[str, Any]:
    """The peer: a plain Python set of the same domain strings, looked up by suffix."""
    from filterproxy.lists.formats import Entry, parse_source

    queries = _queries(spec, spec["queries"])
    bare = rss_kib()
    started = time.perf_counter()
    names: set[str] = set()
    for source in spec["sources"]:
        for item in parse_source(SourceSettings.model_validate(source)):
            if isinstance(item, Entry) and item.kind == "domain":
                names.add(item.value)
    load_seconds = time.perf_counter() - started
    loaded = rss_kib()

    def listed(name: str) -> bool:
        if name in names:
            return True
        start = name.find(".")
        while start >= 0:
            if name[start + 1 :] in names:
                return True
            start = name.find(".", start + 1)
        return False

    started = time.perf_counter()
    hits = sum(1 for q in queries if listed(q.lower().rstrip(".")))
    rate = len(queries) / (time.perf_counter() - started)
    return {"load_seconds": round(load_seconds, 2), "unique_domains": len(names),
            "rss_above_bare_mib": round((loaded - bare) / 1024, 1),
            "bytes_per_domain": round((loaded - bare) * 1024 / max(len(names), 1), 1),
            "lookups_per_second": round(rate), "blocked_share": round(hits / len(queries), 3)}


def child_reload(spec: dict[str, Any]) -> dict[str, Any]:
    """Hold index A, build B in a grandchild (as the service does), map and touch B, drop A."""
    from filterproxy.lists.store import read_index

    bare = rss_kib()
    old = read_index(Path(spec["out"]))
    _touch(old)
    with_old = rss_kib()
    built = run_child("child_build", {**spec, "out": spec["out"] + ".new"})
    new = read_index(Path(spec["out"] + ".new"))
    _touch(new)
    both = rss_kib()
    del old
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"old_mib": round((with_old - bare) / 1024, 1), "old_plus_new_mib": round((both - bare) / 1024, 1),
            "service_peak_above_bare_mib": round((peak - bare) / 1024, 1),
            "builder_child_peak_mib": built["child_max_rss_mib"]}


def dataset(name: str, sources: list[SourceSettings], work: Path, queries: int) -> dict[str, Any]:
    out = work / f"{name}.fpi"
    sample = work / f"{name}.sample"
    _write_sample(sources, sample)
    spec = {"sources": [s.model_dump(mode="json") for s in sources], "out": str(out),
            "queries": queries, "sample": str(sample)}
    print(f"[{name}] building ...", file=sys.stderr)
    build = run_child("child_build", spec)
    print(f"[{name}] loading and classifying ...", file=sys.stderr)
    load = run_child("child_load", spec)
    print(f"[{name}] python set peer ...", file=sys.stderr)
    peer = run_child("child_set", spec)
    print(f"[{name}] reload ...", file=sys.stderr)
    reload = run_child("child_reload", spec)
    return {"dataset": name, "build": build, "index": load, "python_set": peer, "reload": reload}


def _write_sample(sources: list[SourceSettings], path: Path, limit: int = 50000) -> None:
    from filterproxy.lists.formats import Entry, parse_source

    rng = random.Random(11)
    picked: list[str] = []
    for source in sources:
        for seen, item in enumerate(parse_source(source)):
            if isinstance(item, Entry) and item.kind == "domain":
                if len(picked) < limit:
                    picked.append(item.value)
                elif rng.random() < limit / (seen + 1):
                    picked[rng.randrange(limit)] = item.value
    path.write_text("\n".join(picked))


def report(results: list[dict[str, Any]]) -> None:
    print("\n| dataset | entries | unique | build s | load s | index B/domain | set B/domain | ratio | "
          "classify/s 50% listed (unlisted; listed, repeat) | set lookups/s | "
          "reload: old, old+new, service peak, builder peak (MiB) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        idx, peer, rel = r["index"], r["python_set"], r["reload"]
        ratio = peer["bytes_per_domain"] / max(idx["bytes_per_domain"], 0.1)
        print(f"| {r['dataset']} | {r['build']['entries']:,} | {idx['unique_domains']:,} | "
              f"{r['build']['build_seconds']} | {idx['load_seconds']} | {idx['bytes_per_domain']} | "
              f"{peer['bytes_per_domain']} | {ratio:.1f}x smaller | {idx['classify_per_second']:,} "
              f"({idx['unlisted']:,}; {idx['listed_repeat']:,}) | "
              f"{peer['lookups_per_second']:,} | {rel['old_mib']}, {rel['old_plus_new_mib']}, "
              f"{rel['service_peak_above_bare_mib']}, {rel['builder_child_peak_mib']} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--total", type=int, default=5_000_000, help="names in dataset (b)")
    parser.add_argument("--queries", type=int, default=300_000)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    if not available():
        raise SystemExit("../shared/data/blocklists is missing: nothing to benchmark")
    shared = all_sources()
    results = []
    with tempfile.TemporaryDirectory(prefix="fp-bench-") as tmp:
        work = Path(tmp)
        results.append(dataset("a: shared lists", shared, work, args.queries))
        shared_entries = results[0]["build"]["entries"]
        synthetic = work / "synthetic.txt"
        synthetic_file(synthetic, max(0, args.total - shared_entries))
        extra = SourceSettings(id="synthetic", category=Category.ADULT, path=synthetic, format="plain")
        results.append(dataset(f"b: shared + synthetic to {args.total:,}", [*shared, extra], work, args.queries))
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
