"""Incident references: readable, from the 32-symbol alphabet, uniform, fresh across pool refills."""

from __future__ import annotations

import re
from collections import Counter

from filterproxy.incidents.event import ALPHABET, REFERENCE_CHARS, ReferencePool, new_reference

SHAPE = re.compile(r"[A-HJ-NP-Z2-9]{3}-[A-HJ-NP-Z2-9]{3}-[A-HJ-NP-Z2-9]{3}")


def test_references_have_the_readable_shape() -> None:
    refs = [new_reference() for _ in range(5000)]
    assert all(SHAPE.fullmatch(ref) for ref in refs), [ref for ref in refs if not SHAPE.fullmatch(ref)][:5]
    assert len(set(refs)) == len(refs)


def test_pool_refills_and_never_repeats_a_batch() -> None:
    pool = ReferencePool(batch=8)
    refs = [pool.next() for _ in range(8 * 50 + 3)]  # 50 refills and a bit
    assert len(refs) == 403 and len(set(refs)) == 403
    assert all(len(ref.replace("-", "")) == REFERENCE_CHARS for ref in refs)


def test_symbols_are_uniform() -> None:
    """Each of the 32 symbols within 10% of its expected count over 900k draws (about 18 sigma)."""
    pool = ReferencePool()
    counts = Counter("".join(pool.next() for _ in range(100_000)).replace("-", ""))
    assert set(counts) == set(ALPHABET)
    expected = 100_000 * REFERENCE_CHARS / len(ALPHABET)
    assert all(abs(count - expected) < 0.1 * expected for count in counts.values()), counts
