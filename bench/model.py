"""Benchmark of the hostname model: cost per name, resident memory, and the classifier's hot path
with and without the model in the same run.

    .venv/bin/python -m bench.model [--names 20000] [--repeat 5]

Names are synthetic (the model never saw them): words of the shipped benign lists glued to
harmful and neutral words, with digits and hyphens, as unlisted names look. "per name" is one
uncached :meth:`HostModel.score`; the hot path figures are ``Classifier.classify`` for listed
names and for repeated (cached) unlisted names, measured with the model off and on. Memory is
the RSS growth of a fresh child process loading the model, and tracemalloc's peak for it.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

WORDS = ("porn", "casino", "news", "school", "tube", "bet", "shop", "kratom", "games", "clips", "live", "cams",
         "weather", "recipes", "free", "hot", "poker", "music", "video", "club", "online", "club", "sex", "team")
SUFFIXES = ("com", "net", "org", "co.uk", "de", "fr", "xyz", "info", "io", "ru")


def synthetic_names(count: int, seed: int = 5) -> list[str]:
    text = (resources.files("filterproxy.categorise") / "data" / "benign-curated.txt").read_text()
    bases = [line.split(".")[0] for line in text.splitlines() if line and not line.startswith("#")]
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < count:
        parts = [rng.choice(bases), rng.choice(WORDS)]
        rng.shuffle(parts)
        joiner = rng.choice(("", "-", str(rng.randint(0, 99))))
        prefix = rng.choice(("", "", "www.", "cdn.", "m."))
        out.add(f"{prefix}{joiner.join(parts)}.{rng.choice(SUFFIXES)}")
    return sorted(out)


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def child_memory() -> dict[str, Any]:
    import gc
    import tracemalloc

    import numpy  # noqa: F401  (numpy's and the code's own imports are not the model's memory)

    from filterproxy.categorise.modelfile import read_model, shipped_path

    warm = read_model(shipped_path())  # kept: every module and cache it touches is loaded, and its
    # freed temporaries cannot make room for the measured copy
    gc.collect()
    before = rss_kib()
    tracemalloc.start()
    model = read_model(shipped_path())
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = rss_kib()
    return {"features": model.size, "same_as_warm_copy": model.size == warm.size,
            "rss_growth_mib": round((after - before) / 1024, 1),
            "traced_resident_mib": round(current / 2**20, 1), "traced_peak_mib": round(peak / 2**20, 1),
            "file_bytes": shipped_path().stat().st_size}


def per_name(names: list[str], repeat: int) -> dict[str, Any]:
    from filterproxy.categorise.modelfile import read_model, shipped_path

    model = read_model(shipped_path())
    out: dict[str, Any] = {"names": len(names)}
    scored = [model.score(n) for n in names]
    flagged = [(n, s) for n, s in zip(names, scored, strict=True) if s.category is not None]
    out["flagged_any_category"] = len(flagged)
    def score_all() -> None:
        for name in names:
            model.score(name)

    def explain_flagged() -> None:
        for name, score in flagged:
            model.explain(name, score)

    runs: tuple[tuple[str, Callable[[], None]], ...] = (
        ("score (every unlisted name, once)", score_all),
        ("explain (only names over a threshold, once)", explain_flagged),
    )
    for label, run in runs:
        wall, cpu = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            run()
            count = len(names) if label.startswith("score") else max(1, len(flagged))
            wall.append((time.perf_counter() - started) / count * 1e6)
            cpu.append((time.process_time() - started_cpu) / count * 1e6)
        out[label] = {"us_wall_median": round(statistics.median(wall), 2), "us_wall_min": round(min(wall), 2),
                      "us_cpu_min": round(min(cpu), 2)}
    return out


def hot_path(names: list[str], repeat: int) -> dict[str, Any]:
    from filterproxy.categorise.judge import NameJudge
    from filterproxy.categorise.modelfile import read_model, shipped_path
    from filterproxy.lists.testing import make_classifier
    from filterproxy.model import Query

    listed = [f"b{i}.listed{i % 97}.test" for i in range(len(names))]
    deny = {"gambling": sorted({n.split(".", 1)[1] for n in listed})}
    client, at = ipaddress.ip_address("10.0.0.9"), datetime.now(UTC)
    judge = NameJudge(read_model(shipped_path()), cache_size=len(names) * 2)
    classifiers = {"model off": make_classifier(deny), "model on": make_classifier(deny, judge=judge)}
    queries = {"listed": [Query(client, n, at) for n in listed],
               "unlisted, cached": [Query(client, n, at) for n in names]}
    for query in queries["unlisted, cached"]:
        classifiers["model on"].classify(query)  # warm the cache: what the hot path sees after the first query
    runs: dict[str, list[float]] = {}
    for _ in range(repeat):  # interleaved, so a burst of load elsewhere hits both alike
        for label, classifier in classifiers.items():
            for kind, batch in queries.items():
                started = time.perf_counter()
                for query in batch:
                    classifier.classify(query)
                runs.setdefault(f"{label}: {kind}", []).append((time.perf_counter() - started) / len(batch) * 1e6)
    return {"us_per_classify_min_of_runs": {key: round(min(values), 2) for key, values in runs.items()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "memory":
        print(json.dumps(child_memory()))
        return 0
    names = synthetic_names(args.names)
    memory = json.loads(subprocess.run([sys.executable, "-m", "bench.model", "--child", "memory"],
                                       check=True, capture_output=True, text=True).stdout)
    result = {"memory": memory, "per_name": per_name(names, args.repeat), "hot_path": hot_path(names, args.repeat)}
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
