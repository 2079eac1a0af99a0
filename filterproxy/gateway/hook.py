"""The seam between the resolver and gateway steering.

The DNS server calls :meth:`AnswerObserver.observe` once for every answer with A/AAAA records
that it sends to a client (from upstream or from its cache, with the TTL the client gets).
It is called on the DNS hot path: implementations return at once and never raise. Without
steering there is no observer at all (the resolver then adds no steering stage).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from filterproxy.model import IPAddress


class AnswerObserver(Protocol):
    """Told about the addresses the resolver gives out."""

    def observe(self, client: IPAddress, qname: str, addresses: Sequence[IPAddress], ttl: int) -> None:
        """``client`` asked for ``qname`` and got ``addresses`` valid for ``ttl`` seconds."""

