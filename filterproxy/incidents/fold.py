"""Deduplication: repeats of one client reaching one site in one category fold together.

A batch is folded in memory first (a DNS retry storm becomes one group), then the store
folds each group into an open incident with the same key seen within the window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from filterproxy.incidents.event import BlockEvent

Sequenced = tuple[int, BlockEvent]


def dedup_key(event: BlockEvent) -> str:
    """``client|site|category``: the identity of a repeat (reason stands in when uncategorised)."""
    v = event.verdict
    what = v.category.value if v.category else v.reason.value
    return f"{event.client}|{v.site or v.host}|{what}"


@dataclass(slots=True)
class Group:
    """Events folding into one incident: the first event gives the fields, the rest add counts."""

    key: str
    event: BlockEvent
    severity: str
    device: str | None
    first_at: datetime
    last_at: datetime
    count: int = 1
    references: list[tuple[str, datetime]] = field(default_factory=list)

    def add(self, event: BlockEvent) -> None:
        self.count += 1
        self.first_at = min(self.first_at, event.at)
        self.last_at = max(self.last_at, event.at)
        self.references.append((event.reference, event.at))


def fold(
    events: Iterable[Sequenced],
    window: float,
    severity: Callable[[BlockEvent], str],
    device: Callable[[str], str | None],
) -> list[Group]:
    """Fold a batch into groups, in order of first appearance."""
    span = timedelta(seconds=window)
    open_groups: dict[str, Group] = {}
    groups: list[Group] = []
    for _seq, event in events:
        key = dedup_key(event)
        group = open_groups.get(key)
        if group is not None and event.at - group.last_at <= span:
            group.add(event)
            continue
        group = Group(
            key,
            event,
            severity(event),
            device(event.client),
            event.at,
            event.at,
            references=[(event.reference, event.at)],
        )
        open_groups[key] = group
        groups.append(group)
    return groups
