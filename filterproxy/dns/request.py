"""What flows through the chain: a :class:`Request` in, an :class:`Answer` (or its awaitable) out.

A stage that has its answer at once returns it; one that must wait (upstream I/O) returns an
awaitable. Cache hits and block answers therefore run the whole chain synchronously, without
an asyncio task per query; :func:`then` lets a stage post-process either kind alike.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, TypeAlias

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


Reply: TypeAlias = "Answer | Awaitable[Answer]"
Handler = Callable[[Request], Reply]


def then(reply: Reply, fn: Callable[[Answer], Answer]) -> Reply:
    """Apply ``fn`` to the answer now, or once the awaitable gives it."""
    if isinstance(reply, Answer):
        return fn(reply)
    return _later(reply, fn)


async def _later(reply: Awaitable[Answer], fn: Callable[[Answer], Answer]) -> Answer:
    return fn(await reply)


async def resolved(reply: Reply) -> Answer:
    """Await a reply whichever kind it is."""
    return reply if isinstance(reply, Answer) else await reply
