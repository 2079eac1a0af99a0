from __future__ import annotations

import threading

import pytest

from filterproxy.bounded import BoundedDict


def test_never_holds_more_than_its_limit_and_evicts_the_oldest() -> None:
    cache: BoundedDict[str, int] = BoundedDict(3)
    for number, key in enumerate("abcde"):
        cache[key] = number
        assert len(cache) <= 3
    assert list(cache) == ["c", "d", "e"]
    assert cache.get("a") is None and cache["e"] == 4


def test_replacing_a_key_evicts_nothing_and_move_to_end_refreshes() -> None:
    cache: BoundedDict[str, int] = BoundedDict(2)
    cache["a"], cache["b"] = 1, 2
    cache["a"] = 10
    assert dict(cache) == {"a": 10, "b": 2}
    cache.move_to_end("a")
    cache["c"] = 3
    assert list(cache) == ["a", "c"]


def test_eviction_cost_does_not_grow_with_churn() -> None:
    # The idiom this replaces, ``del d[next(iter(d))]`` on a plain dict, walks the dummies that
    # earlier deletions left at the front; an OrderedDict's oldest is found directly. Count the
    # entries seen, not the time: after a million inserts the oldest is still the first one.
    cache: BoundedDict[int, int] = BoundedDict(1000)
    for key in range(1_000_000):
        cache[key] = key
    assert len(cache) == 1000 and next(iter(cache)) == 999_000


def test_threads_adding_at_once_keep_the_bound() -> None:
    cache: BoundedDict[int, int] = BoundedDict(100)

    def add(start: int) -> None:
        for key in range(start, start + 20_000):
            cache[key] = key

    workers = [threading.Thread(target=add, args=(n * 100_000,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert 1 <= len(cache) <= 100 + len(workers)


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        BoundedDict(0)
