"""The hash table and its keys."""

from __future__ import annotations

import array

import pytest

from filterproxy.classify.table import HashTable, build_table, name_key, suffix_keys


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("r14---sn--q4f7sn7d.googlevideo.com", "r12---sn--q4f7sn7l.googlevideo.com"),
        ("r6---sn--4g5e6nsk.googlevideo.com", "r4---sn--4g5e6nss.googlevideo.com"),
        ("ab.example", "ba.example"),
    ],
)
def test_structured_names_get_distinct_keys(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_suffix_keys_equal_the_keys_of_the_suffixes() -> None:
    name = "a.b.example.co.uk"
    assert [key for key, _ in suffix_keys(name)] == [name_key(name[start:]) for _, start in suffix_keys(name)]
    assert [start for _, start in suffix_keys(name)] == [0, 2, 4, 12, 15]


def test_get_suffixes_finds_every_listed_parent_but_not_bare_tlds() -> None:
    entries = {"example.co.uk": 1, "b.example.co.uk": 2, "uk": 3}
    keys, values = build_table(((name_key(n), v) for n, v in entries.items()), len(entries), max)
    table = HashTable(keys, values)
    assert table.get_suffixes("a.b.example.co.uk") == [(2, 2), (1, 4)]
    assert table.get_suffixes("nothing.example") == []
    assert table.get(name_key("uk")) == 3  # stored, but get_suffixes never probes a bare TLD


def test_equal_keys_are_merged() -> None:
    keys, values = build_table([(5, 1), (5, 2), (7, 4)], 3, lambda old, new: old | new)
    table = HashTable(keys, values)
    assert (table.get(5), table.get(7), table.get(9)) == (3, 4, None)
    assert len(table) == 2


def test_memoryview_and_array_give_the_same_answers() -> None:
    keys, values = build_table(((name_key(f"s{i}.example"), i) for i in range(1000)), 1000, max)
    mapped = HashTable(memoryview(keys.tobytes()).cast("q"), memoryview(values.tobytes()).cast("I"))
    plain = HashTable(keys, array.array("I", values))
    for i in range(0, 1000, 37):
        name = f"www.s{i}.example"
        assert mapped.get_suffixes(name) == plain.get_suffixes(name) == [(i, 4)]
