"""The registrable domain (eTLD+1) of a name, from the public suffix snapshot bundled with tldextract.

The snapshot is read from the tldextract package, never fetched, so tests and air-gapped gateways
behave the same. Only the ICANN section is used (private suffixes such as ``github.io`` would split
one abusive site into thousands of "sites"). The lookup is a walk over a few set memberships,
about a microsecond, because it runs for every blocked query.
"""

from __future__ import annotations

from importlib import resources

from filterproxy.classify.normalise import normalise_name

_PRIVATE_MARKER = "===BEGIN PRIVATE DOMAINS==="


def _load_rules() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(plain rules, wildcard parents, exceptions) of the ICANN section, in punycode."""
    text = (resources.files("tldextract") / ".tld_set_snapshot").read_text(encoding="utf-8")
    plain: set[str] = set()
    wild: set[str] = set()
    exceptions: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if _PRIVATE_MARKER in line:
            break
        if not line or line.startswith("//"):
            continue
        rule = line.split()[0]
        if rule.startswith("!"):
            exceptions.add(normalise_name(rule[1:]))
        elif rule.startswith("*."):
            wild.add(normalise_name(rule[2:]))
        else:
            plain.add(normalise_name(rule))
    return frozenset(plain), frozenset(wild), frozenset(exceptions)


_RULES, _WILD, _EXCEPTIONS = _load_rules()


def _parts(*rule_sets: frozenset[str]) -> frozenset[str]:
    """Every suffix of every rule: a walk from the right may continue only through these."""
    out: set[str] = set()
    for rules in rule_sets:
        for rule in rules:
            labels = rule.split(".")
            out.update(".".join(labels[i:]) for i in range(len(labels)))
    return frozenset(out)


_PARTS = _parts(_RULES, _WILD, _EXCEPTIONS)


def public_suffix_start(name: str) -> int:
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
        if candidate in _EXCEPTIONS:
            return pos + 1
        parent_wild = pos < end and name[pos + 1 :] in _WILD
        if candidate in _RULES or parent_wild:
            suffix = start
        elif candidate not in _PARTS:
            break
        if dot < 0:
            break
        pos = dot
    if suffix == end:  # no rule at all: the last label is the suffix
        return name.rfind(".") + 1
    return suffix


_CACHE: dict[str, str] = {}
_CACHE_LIMIT = 65536


def registrable_domain(name: str) -> str:
    """``www.bbc.co.uk`` -> ``bbc.co.uk``; a bare public suffix is returned unchanged.

    Cached in a plain dict emptied when full: an LRU's bookkeeping costs more than it saves when
    most blocked names are new, and repeats (the common case) cost one dictionary lookup.
    """
    found = _CACHE.get(name)
    if found is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        found = _CACHE[name] = _registrable(name)
    return found


def _registrable(name: str) -> str:
    if name[-1:].isdigit() or ":" in name:
        return name  # an IP literal is its own site
    suffix = public_suffix_start(name)
    if suffix == 0:
        return name
    label = name.rfind(".", 0, suffix - 1)
    return name[label + 1 :]
