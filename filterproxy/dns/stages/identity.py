"""Identity: who is behind the client address (RADIUS accounting), noted on the request.

Only in the chain when an identity source is configured. The blocking and SafeSearch stages
then classify with the person's directory groups, and the incident stage names the person.
One dictionary lookup per query.
"""

from __future__ import annotations

from typing import Protocol

from filterproxy.dns.request import Handler, Reply, Request
from filterproxy.identity.model import Identity
from filterproxy.model import IPAddress


class IdentityLookup(Protocol):
    def at(self, address: IPAddress) -> Identity | None: ...


class IdentityStage:
    def __init__(self, book: IdentityLookup) -> None:
        self.book = book

    def __call__(self, req: Request, next: Handler) -> Reply:
        req.identity = self.book.at(req.client)
        return next(req)
