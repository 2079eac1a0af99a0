"""Benchmark of the list parsers: lines per second on the real shared lists and on synthetic ones.

    .venv/bin/python -m bench.parse_lists [--synthetic 1000000] [--rounds 3]

Measures ``filterproxy.lists.formats.parse_file`` (every line validated and normalised, an Entry
or BadLine per line) on (a) every list in ../shared/data/blocklists (gzip, as shipped) and
(b) synthetic plain and hosts files. Side by side: a naive Python loop that only strips and
lower-cases each line into a set (no validation: the floor for any Python parser), and
squidGuard 1.6 compiling the same domains into its Berkeley DB (``squidGuard -C``), the peer
that consumes UT1 lists natively. Medians of ``--rounds``; bounded to a few minutes.
"""

from __future__ import annotations

import argparse
import gzip
import random
import resource
import shutil
import statistics
import string
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from filterproxy.lists.formats import Entry, parse_file
from tests.shared_lists import SHARED


def synthetic(path: Path, count: int, hosts: bool, seed: int = 11) -> None:
    rng = random.Random(seed)
    letters = string.ascii_lowercase + string.digits
    tlds = ["com", "net", "org", "xyz", "info", "co.uk", "de"]
    prefix = "0.0.0.0 " if hosts else ""
    with path.open("w") as out:
        out.write("# synthetic list\n")
        for _ in range(count):
            label = "".join(rng.choices(letters, k=rng.randint(5, 14)))
            sub = "www." if rng.random() < 0.3 else ""
            out.write(f"{prefix}{sub}{label}.{rng.choice(tlds)}\n")


def status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss() -> int:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS, and return that RSS in KiB."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return status_kib("VmRSS")


def count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            total += sum(chunk.count(b"\n") for chunk in iter(partial(handle.read, 1 << 20), b""))
    return total


def ours(paths: list[Path]) -> int:
    return sum(1 for path in paths for item in parse_file(path) if isinstance(item, Entry))


def naive(paths: list[Path]) -> int:
    names: set[str] = set()
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            names.update(line.strip().lower() for line in handle if line[:1] not in ("#", "\n"))
    return len(names)


def timed(fn: Callable[[list[Path]], int], paths: list[Path], rounds: int) -> tuple[float, float, int]:
    """Median wall and CPU seconds (CPU is robust against the other work sharing our 2 cores)."""
    walls, cpus, result = [], [], 0
    for _ in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        result = fn(paths)
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def squidguard(domain_files: list[Path], work: Path, rounds: int) -> tuple[float, float] | None:
    """Wall and CPU seconds of ``squidGuard -C all`` over the same domain files (None when absent)."""
    binary = shutil.which("squidGuard")
    if binary is None:
        return None
    db = work / "sgdb"
    conf = work / "squidGuard.conf"
    dests = []
    for number, path in enumerate(domain_files):
        folder = db / f"d{number}"
        folder.mkdir(parents=True, exist_ok=True)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as src, (folder / "domains").open("wb") as dst:
            shutil.copyfileobj(src, dst)
        dests.append(f"dest d{number} {{\n domainlist d{number}/domains\n}}\n")
    names = " ".join(f"!d{n}" for n in range(len(domain_files)))
    conf.write_text(f"dbhome {db}\nlogdir {work}\n" + "".join(dests)
                    + f"acl {{\n default {{\n  pass {names} all\n  redirect http://127.0.0.1/\n }}\n}}\n")  # fmt: skip
    walls, cpus = [], []
    for _ in range(rounds):
        for stale in db.rglob("*.db"):
            stale.unlink()
        started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([binary, "-c", str(conf), "-C", "all"], check=True, capture_output=True, timeout=600)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append(time.perf_counter() - started)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def report(label: str, lines: int, wall: float, cpu: float) -> None:
    print(f"  {label:<48} {wall:6.2f} s wall {lines / wall:>11,.0f} lines/s | "
          f"{cpu:6.2f} s CPU {lines / cpu:>11,.0f} lines/CPU-s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", type=int, default=1_000_000, help="lines per synthetic file")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plain, hosts = work / "synthetic.txt", work / "synthetic.hosts"
        synthetic(plain, args.synthetic, hosts=False)
        synthetic(hosts, args.synthetic, hosts=True)
        shared = sorted(p for p in SHARED.rglob("*.gz") if p.name.count(".") >= 2) if SHARED.is_dir() else []
        sets = {"shared lists (all, gzip)": shared, "synthetic plain": [plain], "synthetic hosts": [hosts]}
        sets = {name: paths for name, paths in sets.items() if paths}
        lines = {name: count_lines(paths) for name, paths in sets.items()}
        rss_before = reset_peak_rss()
        ours_results = {name: timed(ours, paths, args.rounds) for name, paths in sets.items()}
        rss_growth = (status_kib("VmHWM") - rss_before) / 1024
        for name, paths in sets.items():
            print(f"{name}: {len(paths)} files, {lines[name]:,} lines")
            wall, cpu, found = ours_results[name]
            report(f"filterproxy parse_file ({found:,} entries)", lines[name], wall, cpu)
            wall, cpu, found = timed(naive, paths, args.rounds)
            report(f"naive strip+lower into a set ({found:,} names)", lines[name], wall, cpu)
        print(f"peak RSS above the start while filterproxy parsed all of the above: {rss_growth:.1f} MB")
        ut1 = [p for p in shared if p.parent.name == "ut1" and p.name.endswith(".domains.gz")]
        peer(plain, ut1, work, args.rounds)


def peer(plain: Path, ut1: list[Path], work: Path, rounds: int) -> None:
    """squidGuard compiling the same domains (parse + Berkeley DB insert: more work than a parse)."""
    sg = squidguard([plain], work / "sg1", rounds)
    if sg is None:
        print("squidGuard: not installed, peer skipped")
        return
    print("peer: squidGuard 1.6 -C all (parses and writes its Berkeley DB)")
    report("squidGuard -C all, synthetic plain", count_lines([plain]), *sg)
    wall, cpu, _ = timed(ours, [plain], rounds)
    report("filterproxy parse_file, synthetic plain", count_lines([plain]), wall, cpu)
    if ut1:
        sg = squidguard(ut1, work / "sg2", rounds)
        assert sg is not None
        report(f"squidGuard -C all, {len(ut1)} UT1 domain lists", count_lines(ut1), *sg)
        wall, cpu, _ = timed(ours, ut1, rounds)
        report("filterproxy parse_file, same UT1 domain lists", count_lines(ut1), wall, cpu)


if __name__ == "__main__":
    main()
