"""What the resolver needs from the classification engine, as a protocol.

:class:`filterproxy.classify.engine.Engine` satisfies it; naming only what is used keeps the
DNS package's view of the core small and lets stage tests see exactly what a stage touches.
"""

from __future__ import annotations

from typing import Protocol

from filterproxy.classify.settings import Group
from filterproxy.model import IPAddress, Query, Verdict


class PolicyLike(Protocol):
    def group(self, name: str) -> Group: ...

    def timeless(self, group: str) -> bool: ...


class ClassifierLike(Protocol):
    @property
    def policy(self) -> PolicyLike: ...


class EngineLike(Protocol):
    @property
    def generation(self) -> int: ...

    @property
    def current(self) -> ClassifierLike: ...

    def classify(self, query: Query) -> Verdict: ...

    def group_of(self, client: IPAddress) -> str: ...

    def group_for(self, client: IPAddress, directory: tuple[str, ...]) -> str: ...
