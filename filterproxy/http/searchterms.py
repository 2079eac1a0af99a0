"""Search terms: extracted from search URLs and matched against watch lists per theme.

Extraction covers Google, Bing, DuckDuckGo, YouTube and Wikipedia; matching is on whole words
or phrases, case-insensitive, after collapsing whitespace, so "Self  Harm" matches "self harm".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote_plus

from filterproxy.http.safesearch import matches_site
from filterproxy.http.settings import WatchList
from filterproxy.model import Action, Category

MAX_TERM = 500  # longer "terms" are truncated: incidents are not a data dump

# (host test, path prefix, query parameter); the first match wins.
_ENGINES: tuple[tuple[str, str, str], ...] = (
    ("google.", "/search", "q"),
    ("google.", "/complete/search", "q"),
    ("bing.com", "/search", "q"),
    ("bing.com", "/images/search", "q"),
    ("bing.com", "/videos/search", "q"),
    ("duckduckgo.com", "/", "q"),
    ("youtube.com", "/results", "search_query"),
    ("wikipedia.org", "/w/index.php", "search"),
    ("wikipedia.org", "/wiki/special:search", "search"),
)


def extract_search_term(host: str, path: str) -> str | None:
    """The search term in a request to a known search engine, or None."""
    route, _, query = path.partition("?")
    if not query:
        return None
    route_l = route.lower()
    for site, prefix, param in _ENGINES:
        if matches_site(host, site) and (route_l == prefix or (prefix != "/" and route_l.startswith(prefix))):
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
