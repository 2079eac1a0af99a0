"""Deduplication: repeats of one client reaching one site in one category fold together.

A batch is folded in memory first (a DNS retry storm becomes one group), then the store
folds each group into an open incident with the same key seen within the window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from filterproxy.incidents.codec import stamp
from filterproxy.incidents.event import BlockEvent

Sequenced = tuple[int, BlockEvent]


def dedup_key(event: BlockEvent) -> str:
    """``client|site|category``: the identity of a repeat (reason stands in when uncategorised)."""
    v = event.verdict
    key = f"{event.client}|{v.site or v.host}|{v.what}"
    return f"{key}|{event.user}" if event.user else key  # another person at the same address: another incident


@dataclass(slots=True)
class Folded:
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
) -> list[Folded]:
    """Fold a batch into groups, in order of first appearance."""
    span = timedelta(seconds=window)
    open_groups: dict[str, Folded] = {}
    groups: list[Folded] = []
    for _seq, event in events:
        key = dedup_key(event)
        group = open_groups.get(key)
        if group is not None and event.at - group.last_at <= span:
            group.add(event)
            continue
        group = Folded(
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


def match_open(
    groups: list[Folded], found: dict[str, tuple[Any, ...]]
) -> tuple[list[tuple[Any, ...]], dict[int, int], list[int]]:
    """Given the stored open incident per key ``(id, last_seen, first_seen, key)``, found within the window
    of the key's first group: fold updates for groups that continue one, their ids by group index, and
    the indexes of groups that start one."""
    folds: list[tuple[Any, ...]] = []
    ids: dict[int, int] = {}
    fresh: list[int] = []
    for index, group in enumerate(groups):
        row = found.pop(group.key, None)  # only the first group of a key may continue a stored one
        if row is not None:
            first, last = min(row[2], stamp(group.first_at)), max(row[1], stamp(group.last_at))
            folds.append((group.count, first, last, row[0]))
            ids[index] = int(row[0])
        else:
            fresh.append(index)
    return folds, ids, fresh


def insert_args(group: Folded, node: str) -> tuple[Any, ...]:
    """Values for queries.INSERT_INCIDENT: the first event gives the fields."""
    e, v = group.event, group.event.verdict
    category = v.category.value if v.category else None
    return (
        node, group.key, group.severity, e.client, group.device, e.user, v.group, v.host, v.site or v.host,
        e.url, category, v.reason.value, v.action.value, v.rule, v.source, e.search_term, e.protocol, e.qtype,
        e.method, e.user_agent, stamp(group.first_at), stamp(group.last_at), group.count, e.reference,
        e.identified_by, stamp(e.identified_at) if e.identified_at else None,
    )  # fmt: skip
