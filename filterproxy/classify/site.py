"""The registrable domain (eTLD+1) of a name, from public suffix rules handed in by the caller.

The core reads nothing: :class:`PublicSuffixes` is built from the rules (``com``, ``*.ck``,
``!www.ck``) that the wiring loads, :func:`filterproxy.lists.suffixes.bundled_suffixes` from the
snapshot bundled with tldextract (never fetched, so tests and air-gapped gateways behave the same).
Only the ICANN section is used (private suffixes such as ``github.io`` would split one abusive site
into thousands of "sites"). The lookup is a walk over a few set memberships, about a microsecond,
because it runs for every blocked query.
"""

from __future__ import annotations

from collections.abc import Iterable

from filterproxy.bounded import BoundedDict
from filterproxy.classify.normalise import normalise_name

PRIVATE_MARKER = "===BEGIN PRIVATE DOMAINS==="
_CACHE_LIMIT = 65536


def icann_rules(text: str) -> list[str]:
    """The rules of a public suffix list's text up to its private section (comments and blanks skipped)."""
    rules: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if PRIVATE_MARKER in line:
            break
        if line and not line.startswith("//"):
            rules.append(line.split()[0])
    return rules


class PublicSuffixes:
    """Public suffix rules as three sets, with a walk from the right over them."""

    __slots__ = ("_cache", "_exceptions", "_parts", "_rules", "_wild", "size")

    def __init__(self, rules: Iterable[str]) -> None:
        plain: set[str] = set()
        wild: set[str] = set()
        exceptions: set[str] = set()
        for rule in rules:
            if rule.startswith("!"):
                exceptions.add(normalise_name(rule[1:]))
            elif rule.startswith("*."):
                wild.add(normalise_name(rule[2:]))
            else:
                plain.add(normalise_name(rule))
        self._rules, self._wild, self._exceptions = frozenset(plain), frozenset(wild), frozenset(exceptions)
        self._parts = _parts(self._rules, self._wild, self._exceptions)
        self._cache: BoundedDict[str, str] = BoundedDict(_CACHE_LIMIT)
        self.size = len(plain) + len(wild) + len(exceptions)

    def public_suffix_start(self, name: str) -> int:
        """Offset in ``name`` where its public suffix starts (the last label when no rule matches).

        Walks labels right to left, so the usual ``www.example.com`` costs two set lookups.
        """
        end = len(name)
        suffix = end
        pos = end  # the current candidate is name[start:], its parent name[pos + 1:]
        while True:
            dot = name.rfind(".", 0, pos)
            start = dot + 1
            candidate = name[start:]
            if candidate in self._exceptions:
                return pos + 1
            parent_wild = pos < end and name[pos + 1 :] in self._wild
            if candidate in self._rules or parent_wild:
                suffix = start
            elif candidate not in self._parts:
                break
            if dot < 0:
                break
            pos = dot
        if suffix == end:  # no rule at all: the last label is the suffix
            return name.rfind(".") + 1
        return suffix

    def registrable_domain(self, name: str) -> str:
        """``www.bbc.co.uk`` -> ``bbc.co.uk``; a bare public suffix is returned unchanged.

        Cached in a :class:`BoundedDict` (the oldest name goes when full): repeats, the common
        case, cost one dictionary lookup.
        """
        cache = self._cache
        found = cache.get(name)
        if found is None:
            found = cache[name] = self._registrable(name)
        return found

    def _registrable(self, name: str) -> str:
        if name[-1:].isdigit() or ":" in name:
            return name  # an IP literal is its own site
        suffix = self.public_suffix_start(name)
        if suffix == 0:
            return name
        label = name.rfind(".", 0, suffix - 1)
        return name[label + 1 :]


def _parts(*rule_sets: frozenset[str]) -> frozenset[str]:
    """Every suffix of every rule: a walk from the right may continue only through these."""
    out: set[str] = set()
    for rules in rule_sets:
        for rule in rules:
            labels = rule.split(".")
            out.update(".".join(labels[i:]) for i in range(len(labels)))
    return frozenset(out)
