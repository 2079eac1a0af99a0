"""bench.dns --traffic realistic: its streams have the shares its docstring states, and its
stub upstream answers what the resolvers will ask (A, AAAA, HTTPS under allowed.test)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import dns.message
import dns.rcode

from bench import dns_traffic as traffic
from bench.dns import blocked_names
from bench.dns_upstream import answer

LISTED = blocked_names(20_000)


def _read(path: Path) -> list[dns.message.Message]:
    data, out, pos = path.read_bytes(), [], 0
    while pos < len(data):
        size = int.from_bytes(data[pos : pos + 2], "big")
        out.append(dns.message.from_wire(data[pos + 2 : pos + 2 + size]))
        pos += 2 + size
    return out


def test_realistic_stream_shares(tmp_path: Path) -> None:
    population = traffic.Population(LISTED)
    path = tmp_path / "q.bin"
    assert traffic.write(path, traffic.stream(population, "realistic", 20_000)) == 20_000
    queries = _read(path)
    names = [q.question[0].name.to_text(omit_final_dot=True) for q in queries]
    lowered = [n.lower() for n in names]
    listed = set(LISTED)
    fresh = sum(n.startswith(("f", "x")) for n in lowered)  # fresh names (unasked listed ones aside)
    blocked = sum(n in listed or n.split(".", 1)[1] in listed for n in lowered)
    sub_blocked = sum(n not in listed and n.split(".", 1)[1] in listed for n in lowered)
    assert fresh / len(names) >= 0.30  # first seen: never asked before in the run
    assert len(set(lowered)) / len(lowered) > 0.40 and Counter(lowered).most_common(1)[0][1] > 50  # skewed
    assert 0.15 < blocked / len(names) < 0.35 and sub_blocked > 0.05 * len(names)
    types = Counter(q.question[0].rdtype for q in queries)
    assert types[1] > types[28] > types[65] > 0.05 * len(queries)  # A, AAAA, HTTPS
    edns = [q for q in queries if q.edns >= 0]
    cookies = [q for q in edns if any(o.otype == 10 for o in q.options)]
    assert 0.6 < len(edns) / len(queries) < 0.8 and 0.25 < len(cookies) / len(queries) < 0.45
    mixed = sum(n != n.lower() for n in names)
    assert 0.15 < mixed / len(names) < 0.3  # 0x20 on about a quarter


def test_misses_and_first_seen_blocked_are_all_new(tmp_path: Path) -> None:
    population = traffic.Population(LISTED)
    seen: set[str] = set()
    for case in ("misses", "blocked-first-seen", "misses"):
        path = tmp_path / f"{case}.bin"
        traffic.write(path, traffic.stream(population, case, 3_000))
        names = [q.question[0].name.to_text().lower() for q in _read(path)]
        assert len(set(names)) == len(names) and not seen & set(names)
        seen |= set(names)


def test_stub_upstream_answers_the_zone_and_refuses_nothing() -> None:
    for name, rdtype, rcode, count in [
        ("www.Site3.allowed.test", "A", dns.rcode.NOERROR, 1),
        ("f9.s9.allowed.test", "AAAA", dns.rcode.NOERROR, 1),
        ("f9.s9.allowed.test", "HTTPS", dns.rcode.NOERROR, 1),
        ("f9.s9.allowed.test", "MX", dns.rcode.NOERROR, 0),
        ("elsewhere.example", "A", dns.rcode.NXDOMAIN, 0),
    ]:
        query = dns.message.make_query(name, rdtype, use_edns=0)
        reply = dns.message.from_wire(answer(query.to_wire()))
        assert reply.rcode() == rcode and len(reply.answer) == count and reply.id == query.id
        assert reply.question == query.question
