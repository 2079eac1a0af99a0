"""What flows through the chain: a :class:`Request` in, an :class:`Answer` (or its awaitable) out.

A stage that has its answer at once returns it; one that must wait (upstream I/O) returns a
:class:`Pending`, settled by a callback when the upstream answers. Cache hits and block answers
therefore run the whole chain synchronously, and misses run it without an asyncio task or
coroutine per query; :func:`then` lets a stage post-process any kind alike.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from filterproxy.dns.wire import CD, RA, RD, Question
from filterproxy.identity.model import Identity
from filterproxy.model import IPAddress, Verdict

if TYPE_CHECKING:
    from filterproxy.dns.cache import Entry

Transport = Literal["udp", "tcp"]


@dataclass(slots=True)
class Request:
    """One client query, parsed; stages may note a verdict on it for the incident stage."""

    q: Question
    client: IPAddress
    transport: Transport
    started: float = field(default_factory=time.perf_counter)
    verdict: Verdict | None = None
    lane_left: float = 0.0  # seconds after ``started`` the answer stays the same (0: not for the hot lane)
    cache_hit: bool = False
    identity: Identity | None = None  # the person behind the client, when an identity source names one
    probe: bool = False  # a self-test probe (valid token): filtered as usual, never an incident

    @property
    def name(self) -> str:
        return self.q.name

    @property
    def qtype(self) -> int:
        return self.q.qtype

    def reply_flags(self, rcode: int = 0) -> int:
        """Response flags: QR and RA, RD and CD echoed, the given RCODE."""
        return 0x8000 | RA | (self.q.flags & (RD | CD)) | rcode

    def derive(self, name: str, question: bytes) -> Request:
        """The same client asking about another name (SafeSearch targets)."""
        q = replace(self.q, name=name, question=question)
        return Request(q, self.client, self.transport, self.started, identity=self.identity, probe=self.probe)


@dataclass(slots=True)
class Answer:
    """A response ready for the wire, and what later stages need to know about it."""

    wire: bytes
    aliases: tuple[str, ...] = ()  # CNAME/DNAME targets, normalised: re-checked by the blocking stage
    entry: Entry | None = None  # set by the upstream stage: what the cache stores
    failed: bool = False  # no upstream answered: the cache may serve stale instead
    source: str = "local"  # bounded: local | block | cache | stale | upstream | error

    @property
    def rcode(self) -> int:
        return self.wire[3] & 0x0F if len(self.wire) >= 4 else 0


class Pending:
    """An answer that comes later (upstream I/O), without a coroutine or task per query.

    Stages chain work onto it with :func:`then`; the UDP server adds a callback that sends the
    answer; TCP and tests may ``await`` it. It settles once, with an :class:`Answer` or with the
    exception a stage raised on the way (which the server turns into SERVFAIL).

    :meth:`then` appends its step to this same object (the chain hands each pending reply up to
    one caller only, and a miss passes five stages: five objects and closures fewer per query);
    :meth:`branch` makes a new one, for a holder that is not the only one (coalesced misses).
    """

    __slots__ = ("_callbacks", "_result", "_steps")

    def __init__(self) -> None:
        self._steps: list[Callable[[Answer], Answer]] = []
        self._callbacks: list[Callable[[Answer | BaseException], None]] | None = []
        self._result: Answer | BaseException | None = None

    @property
    def done(self) -> bool:
        return self._callbacks is None

    def settle(self, result: Answer | BaseException) -> None:
        callbacks = self._callbacks
        if callbacks is None:
            return
        for step in self._steps:  # in the order added: the innermost stage's first
            if isinstance(result, BaseException):
                break
            try:
                result = step(result)
            except Exception as exc:
                result = exc
        self._result, self._callbacks = result, None
        for callback in callbacks:
            callback(result)

    def add(self, callback: Callable[[Answer | BaseException], None]) -> None:
        """Call ``callback`` with the result once settled (at once if it is)."""
        if self._callbacks is None:
            callback(self._result)  # type: ignore[arg-type]
        else:
            self._callbacks.append(callback)

    def then(self, fn: Callable[[Answer], Answer]) -> Pending:
        """``fn`` applied to the answer when it comes; returns this same pending reply."""
        if self._callbacks is None or self._callbacks:
            return self.branch(fn)  # settled, or someone waits on the result as it is now
        self._steps.append(fn)
        return self

    def branch(self, fn: Callable[[Answer], Answer]) -> Pending:
        """A new pending reply: ``fn`` of this one's answer (this one is left as it is)."""
        out = Pending()
        out._steps.append(fn)
        self.add(out.settle)
        return out

    def __await__(self) -> Generator[Any, None, Answer]:
        if self._callbacks is not None:
            fut: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
            self.add(lambda result: _settle(fut, result))
            return (yield from fut.__await__())
        if isinstance(self._result, BaseException):
            raise self._result
        assert self._result is not None
        return self._result


def _settle(fut: asyncio.Future[Answer], result: Answer | BaseException) -> None:
    if not fut.done():
        if isinstance(result, BaseException):
            fut.set_exception(result)
        else:
            fut.set_result(result)


Reply: TypeAlias = "Answer | Pending | Awaitable[Answer]"
Handler = Callable[[Request], Reply]


def then(reply: Reply, fn: Callable[[Answer], Answer]) -> Reply:
    """Apply ``fn`` to the answer now, or once the pending reply (or awaitable) gives it."""
    if isinstance(reply, Answer):
        return fn(reply)
    if isinstance(reply, Pending):
        return reply.then(fn)
    return _later(reply, fn)


async def _later(reply: Awaitable[Answer], fn: Callable[[Answer], Answer]) -> Answer:
    return fn(await reply)


async def resolved(reply: Reply) -> Answer:
    """Await a reply whichever kind it is."""
    return reply if isinstance(reply, Answer) else await reply
