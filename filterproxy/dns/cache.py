"""The answer cache: entries are wire templates, so a hit is a splice and a few TTL patches.

An :class:`Entry` holds an upstream answer as dnslib packed it for the lower-case question.
Rendering it for a client puts in the client's ID, flags and question bytes (same length, so
compression pointers still hold) and rewrites each TTL to what remains of it. Bounded (LRU),
with a stale window for RFC 8767 serve-stale when every upstream is down.
"""

from __future__ import annotations

import asyncio
import struct
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dnslib import EDNS0, DNSBuffer, DNSQuestion, DNSRecord

from filterproxy.dns import wire
from filterproxy.dns.wire import Question
from filterproxy.model import IPAddress

_TTL = struct.Struct("!I")
Key = tuple[str, int]


@dataclass(slots=True)
class Entry:
    """One cached answer, ready to render."""

    flags: int  # response flags without RD/CD (those come from each client's query)
    counts: bytes  # QD, AN, NS, AR counts (AR without OPT: each client's OPT is added at render)
    body: bytes  # the sections after the question
    ttl_offsets: tuple[int, ...]  # offsets of each record's TTL inside ``body``
    ttls: tuple[int, ...]
    stored: float  # time.monotonic() when stored
    lifetime: int  # seconds the entry is fresh
    aliases: tuple[str, ...] = ()
    addresses: tuple[IPAddress, ...] = ()  # A/AAAA data, for gateway steering
    _aged: tuple[int, bytes] = field(default=(0, b""), repr=False)

    @classmethod
    def from_wire(
        cls,
        packed: bytes,
        qlen: int,
        lifetime: int,
        aliases: tuple[str, ...],
        now: float,
        addresses: tuple[IPAddress, ...] = (),
    ) -> Entry:
        """Make an entry from a canonical answer (lower-case question, no OPT, TTLs already clamped)."""
        start = 12 + qlen
        an, ns, ar = struct.unpack_from("!HHH", packed, 6)
        offsets, ttls = [], []
        for _rtype, ttl_at, _end in wire.records(packed, start, an + ns + ar):
            offsets.append(ttl_at - start)
            ttls.append(_TTL.unpack_from(packed, ttl_at)[0])
        flags = int.from_bytes(packed[2:4], "big") & ~(wire.RD | wire.CD)
        body = packed[start:]
        return cls(
            flags,
            packed[4:12],
            body,
            tuple(offsets),
            tuple(ttls),
            now,
            lifetime,
            aliases,
            addresses,
            (0, body),
        )

    def age(self, now: float) -> int:
        return int(now - self.stored)

    def fresh(self, now: float) -> bool:
        return now - self.stored < self.lifetime

    def render(self, q: Question, now: float, payload: int, fixed_ttl: int | None = None, fast: bool = True) -> bytes:
        """The answer for ``q``: TTLs reduced by the entry's age, or all set to ``fixed_ttl`` (stale)."""
        if not fast:
            return self.render_dnslib(q, now, payload, fixed_ttl)
        body = self._body_for(self.age(now)) if fixed_ttl is None else self._patched(lambda _t: fixed_ttl)
        flags = self.flags | (q.flags & (wire.RD | wire.CD))
        head = q.id.to_bytes(2, "big") + flags.to_bytes(2, "big")
        if not q.edns:
            return head + self.counts + q.question + body
        ar = int.from_bytes(self.counts[6:8], "big") + 1
        return head + self.counts[:6] + ar.to_bytes(2, "big") + q.question + body + wire.opt_record(payload)

    def render_dnslib(self, q: Question, now: float, payload: int, fixed_ttl: int | None = None) -> bytes:
        """The same answer the dnslib way: parse the stored answer, adjust it for ``q``, pack it."""
        canonical = self.flags.to_bytes(2, "big") + self.counts + wire.lower_question(q.question) + self.body
        record = DNSRecord.parse(b"\x00\x00" + canonical)
        record.header.id = q.id
        record.header.rd, record.header.cd = int(bool(q.flags & wire.RD)), int(bool(q.flags & wire.CD))
        record.questions = [DNSQuestion(DNSBuffer(q.question).decode_name(), q.qtype, q.qclass)]
        age = self.age(now)
        for rr in [*record.rr, *record.auth, *record.ar]:
            rr.ttl = fixed_ttl if fixed_ttl is not None else max(rr.ttl - age, 0)
        if q.edns:
            record.add_ar(EDNS0(udp_len=payload))
        return wire.pack(record)

    def _body_for(self, age: int) -> bytes:
        if age == 0 or not self.ttls:
            return self.body
        aged_at, aged = self._aged
        if aged_at != age:
            aged = self._patched(lambda ttl: max(ttl - age, 0))
            self._aged = (age, aged)
        return aged

    def _patched(self, ttl_of: Callable[[int], int]) -> bytes:
        body = bytearray(self.body)
        for offset, ttl in zip(self.ttl_offsets, self.ttls, strict=True):
            _TTL.pack_into(body, offset, ttl_of(ttl))
        return bytes(body)


class Cache:
    """A bounded LRU of entries keyed by (name, qtype), keeping expired ones for a stale window."""

    def __init__(self, max_entries: int, stale_seconds: float) -> None:
        self.max_entries = max_entries
        self.stale_seconds = stale_seconds
        self._entries: OrderedDict[Key, Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def fresh(self, key: Key, now: float) -> Entry | None:
        entry = self._entries.get(key)
        if entry is None or not entry.fresh(now):
            return None
        self._entries.move_to_end(key)
        return entry

    def stale(self, key: Key, now: float) -> Entry | None:
        """An expired entry still inside the stale window (RFC 8767), or None."""
        entry = self._entries.get(key)
        if entry is None or now - entry.stored > entry.lifetime + self.stale_seconds:
            return None
        return entry

    def put(self, key: Key, entry: Entry) -> None:
        if self.max_entries <= 0:
            return
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything at once for readers; the old entries are freed a chunk at a time."""
        old, self._entries = self._entries, OrderedDict()
        dismantle(old)


def dismantle(mapping: dict[Any, Any], chunk: int = 2000) -> None:
    """Free a big mapping a chunk per event-loop iteration, never all in one callback.

    A list reload empties the answer cache and the hot lane; freeing 100,000 cached answers in
    one ``clear()`` holds the loop (and so DNS) for tens of milliseconds. Without a running loop
    (tools, tests) it is cleared at once."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        mapping.clear()
        return

    def step() -> None:
        for _ in range(min(chunk, len(mapping))):
            mapping.popitem()
        if mapping:
            loop.call_soon(step)

    step()
