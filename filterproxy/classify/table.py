"""A compact, immutable hash table of names: 61-bit keys and 32-bit values, no Python str per entry.

Why this shape: a Python ``set`` of five million names costs about 80 bytes a name; here a name
costs two array slots (8 + 4 bytes) at a load factor of about 0.6, so about 20 bytes, and the
arrays can be written to disk and mapped back in without parsing.

Keys are :func:`name_key` values: the name's ASCII bytes read as a little-endian integer, modulo
a fixed 62-bit prime with no relation to 256 (a polynomial hash with base 256). It is deterministic
across processes and, because the integer of a suffix is the integer of the whole name shifted
right, the key of every suffix of a name costs one shift and one reduction (:func:`suffix_keys`),
both in C. Names of up to seven bytes never collide; for longer ones, names differing in a few
bytes would need ``sum(d_i * 256**i) % PRIME == 0`` with small ``d_i``, which a prime unrelated to
256 makes as unlikely as chance (about 2**-62 a pair). A Mersenne modulus is NOT safe here: there
``256**i`` is a power of two, byte windows overlap, and the real lists had 1,174 colliding pairs of
structured names such as ``r14---sn--q4f7sn7d.googlevideo.com`` / ``r12---sn--q4f7sn7l...``.
Keys are never used alone to *allow* anything: the school's allow list keeps exact strings, so a
collision could only ever over-block.

Open addressing with linear probing; slot 0 means empty (a key of 0 is stored as 1).
"""

from __future__ import annotations

import array
from collections.abc import Iterable, Iterator
from typing import Protocol

LOAD_FACTOR = 0.6
PRIME = 4278064008348545161  # random 62-bit prime (seeded 20261124); part of the compiled format
_EMPTY = 0


def name_key(name: str) -> int:
    """The 61-bit key of a normalised ASCII name."""
    return int.from_bytes(name.encode("ascii"), "little") % PRIME or 1


def suffix_keys(name: str) -> Iterator[tuple[int, int]]:
    """Yield ``(key, start)`` for the name and each parent suffix: www.a.com, a.com, com."""
    whole = int.from_bytes(name.encode("ascii"), "little")
    yield whole % PRIME or 1, 0
    start = name.find(".")
    while start >= 0:
        yield (whole >> (8 * (start + 1))) % PRIME or 1, start + 1
        start = name.find(".", start + 1)


class IntArray(Protocol):
    """What the table reads: an ``array.array`` while building, a ``memoryview`` once mapped."""

    def __getitem__(self, index: int, /) -> int: ...

    def __len__(self) -> int: ...


class HashTable:
    """Read side: look keys up in two parallel integer arrays of equal length."""

    __slots__ = ("keys", "size", "values")

    def __init__(self, keys: IntArray, values: IntArray) -> None:
        if len(keys) != len(values) or len(keys) == 0:
            raise ValueError("keys and values must be non-empty and of equal length")
        self.keys = keys
        self.values = values
        self.size = len(keys)

    def get(self, key: int) -> int | None:
        """The value stored for ``key``, or None."""
        keys = self.keys
        size = self.size
        slot = key % size
        while True:
            found = keys[slot]
            if found == key:
                return self.values[slot]
            if found == _EMPTY:
                return None
            slot += 1
            if slot == size:
                slot = 0

    def get_suffixes(self, name: str) -> list[tuple[int, int]]:
        """``(value, start)`` for every suffix of ``name`` with two or more labels, most specific first.

        The hot path of classification: the suffix loop and the probing are inlined here because
        a generator and a method call per suffix cost more than the lookups themselves. Bare
        top-level labels are not probed (lists never hold them in this table; see Index.tlds).
        """
        keys = self.keys
        size = self.size
        found: list[tuple[int, int]] = []
        whole = int.from_bytes(name.encode("ascii", "replace"), "little")
        start = 0
        dot = name.find(".")
        while dot >= 0:
            key = ((whole >> (8 * start)) if start else whole) % PRIME or 1
            slot = key % size
            while True:
                stored = keys[slot]
                if stored == key:
                    found.append((self.values[slot], start))
                    break
                if stored == _EMPTY:
                    break
                slot += 1
                if slot == size:
                    slot = 0
            start = dot + 1
            dot = name.find(".", start)
        return found

    def __len__(self) -> int:
        return sum(1 for i in range(self.size) if self.keys[i] != _EMPTY)


def table_size(count: int) -> int:
    """Number of slots for ``count`` entries at the target load factor (odd, at least 8)."""
    return max(8, int(count / LOAD_FACTOR) + 1) | 1


def build_table(
    pairs: Iterable[tuple[int, int]], count: int, merge: MergeFn
) -> tuple[array.array[int], array.array[int]]:
    """Build key and value arrays from ``(key, value)`` pairs; equal keys are combined by ``merge``.

    ``count`` is an upper bound on distinct keys (used to size the table).
    """
    size = table_size(count)
    keys = array.array("q", bytes(8 * size))
    values = array.array("I", bytes(4 * size))
    for key, value in pairs:
        slot = key % size
        while True:
            found = keys[slot]
            if found == _EMPTY:
                keys[slot] = key
                values[slot] = value
                break
            if found == key:
                values[slot] = merge(values[slot], value)
                break
            slot += 1
            if slot == size:
                slot = 0
    return keys, values


class MergeFn(Protocol):
    def __call__(self, old: int, new: int, /) -> int: ...
