"""Search terms: extracted from search URLs and matched against watch lists per theme.

Extraction covers the search pages of the SafeSearch providers (their hosts and parameters are in
the provider table, :mod:`filterproxy.classify.safesearch`) and Wikipedia; matching is on whole words
or phrases, case-insensitive, after collapsing whitespace, so "Self  Harm" matches "self harm".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote_plus

from filterproxy.classify.safesearch import provider_of
from filterproxy.http.settings import WatchList
from filterproxy.model import Action, Category

MAX_TERM = 500  # longer "terms" are truncated: incidents are not a data dump

# Search sites that are no SafeSearch provider: (site, path prefixes, query parameter). The search
# engines' own rules live with their hosts in the provider table (classify.safesearch).
_SITES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("wikipedia.org", ("/w/index.php", "/wiki/special:search"), "search"),
)


_SITE_NAMES = frozenset(site for site, _, _ in _SITES)
_SITE_SUFFIXES = tuple("." + site for site in _SITE_NAMES)


def is_term_site(host: str) -> bool:
    """Whether ``host`` is one of :data:`_SITES` or under it (on every allowed request: kept cheap)."""
    return host.endswith(_SITE_SUFFIXES) or host in _SITE_NAMES


def _rules(host: str) -> tuple[tuple[str, str], ...]:
    """(path prefix, parameter) pairs for ``host``: its provider's, or a listed site's."""
    provider = provider_of(host)
    if provider is not None:
        return provider.terms
    return tuple(
        (prefix, param)
        for site, prefixes, param in _SITES
        if host == site or host.endswith("." + site)
        for prefix in prefixes
    )


def extract_search_term(host: str, path: str) -> str | None:
    """The search term in a request to a known search engine, or None."""
    route, _, query = path.partition("?")
    if not query:
        return None
    route_l = route.lower()
    for prefix, param in _rules(host):
        if route_l == prefix or (prefix != "/" and route_l.startswith(prefix)):
            values = parse_qs(query, keep_blank_values=False).get(param)
            if values:
                term = " ".join(unquote_plus(values[0]).split())
                return term[:MAX_TERM] or None
    return None


@dataclass(frozen=True, slots=True)
class WatchHit:
    """A search term matched a watch list."""

    theme: Category
    word: str
    action: Action


class Watcher:
    """Compiled watch lists: one regular expression per theme."""

    def __init__(self, lists: Mapping[Category, WatchList]) -> None:
        self._rules: list[tuple[Category, Action, re.Pattern[str]]] = []
        for theme, watch in lists.items():
            if not watch.words:
                continue
            words = sorted({" ".join(w.split()) for w in watch.words}, key=len, reverse=True)
            alternation = "|".join(r"\s+".join(re.escape(p) for p in w.split(" ")) for w in words)
            self._rules.append((theme, watch.action, re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.I)))
        # block before log, so a term on both kinds of list is blocked
        self._rules.sort(key=lambda rule: rule[1] is not Action.BLOCK)

    def match(self, term: str) -> WatchHit | None:
        for theme, action, pattern in self._rules:
            found = pattern.search(term)
            if found:
                return WatchHit(theme, " ".join(found.group(0).lower().split()), action)
        return None
