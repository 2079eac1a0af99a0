"""Building a real :class:`Engine` from inline entries, for tests of the DNS and HTTP paths.

This is not a fake: it runs the same builder, index and classifier as production, only the
entries come from arguments instead of list files (and the public suffixes are the bundled ones,
as in the service).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from filterproxy.classify.builder import IndexBuilder
from filterproxy.classify.classifier import Classifier, Judge, LocalLists
from filterproxy.classify.engine import Engine
from filterproxy.classify.index import SourceInfo
from filterproxy.classify.normalise import normalise_name
from filterproxy.classify.policy import Policy
from filterproxy.classify.settings import PolicySettings
from filterproxy.lists.suffixes import bundled_suffixes
from filterproxy.model import Category


def make_classifier(
    deny: Mapping[str, Sequence[str]] | None = None,
    *,
    urls: Mapping[str, Sequence[str]] | None = None,
    illegal: Sequence[str] = (),
    allow: Sequence[str] = (),
    local_deny: Sequence[str] | Mapping[str, Sequence[str]] = (),
    ips: Mapping[str, Sequence[str]] | None = None,
    policy: PolicySettings | None = None,
    judge: Judge | None = None,
) -> Classifier:
    """A classifier over the given entries; ``deny``/``urls``/``ips`` map category id -> entries.

    ``illegal`` entries containing '/' are URL-level, others domain-level. ``local_deny`` as a
    plain sequence is filed under ``adult``; as a mapping, by category.
    """
    builder = IndexBuilder()
    infos: list[SourceInfo] = []
    for category, entries in (deny or {}).items():
        pair = builder.pair(Category(category), f"test/{category}")
        for entry in entries:
            builder.add_domain(normalise_name(entry.removeprefix("*.")), pair)
        infos.append(SourceInfo(f"test/{category}", Category(category), "<inline>", entries=len(entries)))
    for category, entries in (urls or {}).items():
        pair = builder.pair(Category(category), f"test/{category}-urls")
        for entry in entries:
            builder.add_url(_norm_url(entry), pair)
    illegal_pair = builder.pair(Category.ILLEGAL, "test/illegal")
    for entry in illegal:
        builder.add_url(_norm_url(entry), illegal_pair)
    for category, entries in (ips or {}).items():
        pair = builder.pair(Category(category), f"test/{category}-ips")
        for entry in entries:
            builder.add_ip(entry, pair)
    deny_map = local_deny if isinstance(local_deny, Mapping) else {"adult": local_deny}
    local = LocalLists(
        allow=frozenset(normalise_name(a) for a in allow),
        deny={normalise_name(d): Category(c) for c, names in deny_map.items() for d in names},
    )
    return Classifier(Policy(policy or PolicySettings()), builder.build(infos), local, judge,
                      suffixes=bundled_suffixes())


def make_engine(deny: Mapping[str, Sequence[str]] | None = None, **kwargs: Any) -> Engine:
    """An :class:`Engine` around :func:`make_classifier` (same arguments)."""
    return Engine(make_classifier(deny, **kwargs))


def _norm_url(entry: str) -> str:
    entry = entry.split("://", 1)[-1]
    host, slash, path = entry.partition("/")
    host = normalise_name(host)
    return f"{host}/{path.lower().rstrip('/')}" if slash and path.rstrip("/") else host
