"""request.Pending: the miss path's answer-later object, without tasks or coroutines."""

from __future__ import annotations

import asyncio

import pytest

from filterproxy.dns.request import Answer, Pending, then


def _tag(tag: str):  # type: ignore[no-untyped-def]
    return lambda answer: Answer(answer.wire + tag.encode(), source=answer.source)


def test_steps_run_innermost_first_and_callbacks_see_the_end() -> None:
    pending = Pending()
    outer = then(then(pending, _tag("a")), _tag("b"))
    assert outer is pending  # one object along the chain
    seen: list[bytes] = []
    outer.add(lambda result: seen.append(result.wire))  # type: ignore[union-attr]
    pending.settle(Answer(b"x"))
    assert seen == [b"xab"]
    late: list[bytes] = []
    pending.add(lambda result: late.append(result.wire))  # type: ignore[union-attr]
    assert late == [b"xab"]  # settled: called at once
    pending.settle(Answer(b"again"))  # settles once
    assert late == [b"xab"]


def test_a_branch_leaves_the_original_and_other_branches_alone() -> None:
    leader = Pending()
    mine, theirs = leader.branch(_tag("1")), leader.branch(_tag("2"))
    then(mine, _tag("m"))
    results: list[bytes] = []
    for p in (leader, mine, theirs):
        p.add(lambda r: results.append(r.wire))  # type: ignore[union-attr]
    leader.settle(Answer(b"u"))
    assert sorted(results) == [b"u", b"u1m", b"u2"]
    assert then(leader, _tag("z")) is not leader  # settled: a new one, already settled


def test_a_failing_step_skips_the_rest_and_reaches_await() -> None:
    def boom(answer: Answer) -> Answer:
        raise RuntimeError("stage bug")

    pending = Pending()
    then(then(pending, boom), _tag("never"))

    async def run() -> None:
        asyncio.get_running_loop().call_soon(pending.settle, Answer(b"x"))
        with pytest.raises(RuntimeError, match="stage bug"):
            await pending

    asyncio.run(run())
