"""Query streams for ``bench.dns --traffic realistic``, written as dnsperf binary input (``-B``).

Each query is built on the wire here, so a stream mixes what dnsperf's text input cannot:

- names: for ``realistic``, 35% from a hot head of 2,000 names (Zipf, s=1), 30% from a warm
  middle of 50,000 names (Zipf, s=0.8) and 35% first seen (never asked before in the run).
  About a quarter of all queries are blocked: listed names themselves and subdomains of listed
  names (``cdn3.b0001234.blocked7.test``), in the head, the middle and the first-seen tail;
- types: 55% A, 35% AAAA, 10% HTTPS;
- EDNS0 (payload 1232) on 70% of queries, half of those with a client cookie (RFC 7873); 25%
  with 0x20 case randomisation (every letter's case drawn at random).

``misses`` is every name new and allowed, ``blocked-first-seen`` every name new and blocked (80%
subdomains of listed names, 20% listed names not asked before), ``hot`` today's replay: 100
allowed names and listed names, A only, no EDNS, the same file every pass.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Iterator
from pathlib import Path

HOT_NAMES, WARM_NAMES = 2_000, 50_000
QTYPES = ((1, 0.55), (28, 0.35), (65, 0.10))
CASES = ("realistic", "misses", "blocked-first-seen", "hot")
SUBDOMAINS = ("www", "cdn", "ads", "track", "img", "api", "static", "m")


def allowed(rank: int, tag: str = "w") -> str:
    return f"{tag}{rank}.s{rank % 997}.allowed.test"


class Population:
    """The names of one run: listed names, the allowed population and fresh names on demand."""

    def __init__(self, listed: list[str], seed: int = 13) -> None:
        self.listed = listed
        self.rng = random.Random(seed)
        self._fresh = itertools.count()
        self._unasked = self.rng.sample(range(len(listed)), min(len(listed), 400_000))  # kept out of head/middle
        self._asked = sorted(set(range(len(listed))).difference(self._unasked)) or list(range(len(listed)))
        self.hot = [self._pick_fixed(i, 0.2) for i in range(HOT_NAMES)]
        self.warm = [self._pick_fixed(HOT_NAMES + i, 0.15) for i in range(WARM_NAMES)]
        self._hot_cum = _zipf(HOT_NAMES, 1.0)
        self._warm_cum = _zipf(WARM_NAMES, 0.8)

    def _pick_fixed(self, rank: int, blocked_share: float) -> str:
        if self.rng.random() >= blocked_share:
            return allowed(rank)
        listed = self.listed[self._asked[self.rng.randrange(len(self._asked))]]
        return listed if self.rng.random() < 0.5 else f"{self.rng.choice(SUBDOMAINS)}.{listed}"

    def fresh_allowed(self) -> str:
        return allowed(next(self._fresh), "f")

    def fresh_blocked(self) -> str:
        if self._unasked and self.rng.random() < 0.2:
            return self.listed[self._unasked.pop()]
        return f"x{next(self._fresh)}.{self.listed[self.rng.randrange(len(self.listed))]}"

    def realistic(self) -> str:
        draw = self.rng.random()
        if draw < 0.35:
            return self.hot[bisect.bisect(self._hot_cum, self.rng.random())]
        if draw < 0.65:
            return self.warm[bisect.bisect(self._warm_cum, self.rng.random())]
        return self.fresh_blocked() if self.rng.random() < 0.3 else self.fresh_allowed()


def _zipf(count: int, s: float) -> list[float]:
    weights = list(itertools.accumulate(1 / (rank**s) for rank in range(1, count + 1)))
    total = weights[-1]
    cum = [w / total for w in weights]
    cum[-1] = 2.0  # bisect never runs off the end
    return cum


def query(rng: random.Random, name: str, qtype: int, edns: bool, cookie: bool, mixed_case: bool) -> bytes:
    """One query on the wire (ID 0: dnsperf puts its own): RD, one IN question, optional OPT."""
    labels = []
    for label in name.split("."):
        raw = label.encode("ascii")
        if mixed_case:
            raw = bytes(c ^ 0x20 if 0x61 <= c <= 0x7A and rng.random() < 0.5 else c for c in raw)
        labels.append(len(raw).to_bytes(1, "big") + raw)
    out = b"\x00\x00\x01\x00\x00\x01\x00\x00\x00\x00" + (b"\x00\x01" if edns else b"\x00\x00")
    out += b"".join(labels) + b"\x00" + qtype.to_bytes(2, "big") + b"\x00\x01"
    if edns:
        options = b"\x00\x0a\x00\x08" + rng.randbytes(8) if cookie else b""
        out += b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00" + len(options).to_bytes(2, "big") + options
    return out


def stream(population: Population, case: str, count: int) -> Iterator[bytes]:
    rng = population.rng
    pick: Callable[[], str] = {
        "realistic": population.realistic,
        "misses": population.fresh_allowed,
        "blocked-first-seen": population.fresh_blocked,
    }[case]
    types = [qtype for qtype, _share in QTYPES]
    for qtype in rng.choices(types, [share for _qtype, share in QTYPES], k=count):
        edns = rng.random() < 0.7
        yield query(rng, pick(), qtype, edns, edns and rng.random() < 0.5, rng.random() < 0.25)


def hot_stream(population: Population, count: int) -> Iterator[bytes]:
    rng = population.rng
    for i in range(count):
        name = rng.choice(population.listed) if i % 2 else allowed(rng.randrange(100), "ok")
        yield query(rng, name, 1, False, False, False)


def write(path: Path, queries: Iterator[bytes]) -> int:
    """dnsperf ``-B`` input: each message behind its two-byte length, as over TCP."""
    count = 0
    with path.open("wb") as f:
        for message in queries:
            f.write(len(message).to_bytes(2, "big") + message)
            count += 1
    return count
