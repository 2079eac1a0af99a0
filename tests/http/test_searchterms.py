"""Search-term extraction per engine and watch-list matching."""

from __future__ import annotations

import pytest

from filterproxy.http.searchterms import Watcher, extract_search_term
from filterproxy.http.settings import WatchList
from filterproxy.model import Action, Category


@pytest.mark.parametrize(
    ("host", "path", "term"),
    [
        ("www.google.com", "/search?q=how+to+tie+a+tie&hl=en", "how to tie a tie"),
        ("www.google.co.uk", "/complete/search?q=self%20harm&client=x", "self harm"),
        ("www.bing.com", "/search?q=Cats++and%0Adogs", "Cats and dogs"),
        ("duckduckgo.com", "/?q=privacy&t=h_", "privacy"),
        ("html.duckduckgo.com", "/html/?q=no+script", "no script"),
        ("music.youtube.com", "/results?search_query=song", "song"),
        ("www.youtube.com", "/results?search_query=minecraft", "minecraft"),
        ("en.wikipedia.org", "/w/index.php?search=Photosynthesis&title=Special", "Photosynthesis"),
        ("en.wikipedia.org", "/wiki/Special:Search?search=Volcano", "Volcano"),
        ("www.google.com", "/maps?q=London", None),
        ("www.google.com", "/search?hl=en", None),
        ("ok.example", "/search?q=x", None),
        ("www.youtube.com", "/watch?v=abc", None),
    ],
)
def test_extract(host: str, path: str, term: str | None) -> None:
    assert extract_search_term(host, path) == term


def test_terms_are_capped() -> None:
    term = extract_search_term("www.google.com", "/search?q=" + "a" * 5000)
    assert term is not None and len(term) == 500


WATCHER = Watcher(
    {
        Category.SELFHARM: WatchList(words=["self harm", "Suicide"], action=Action.LOG),
        Category.EXTREMISM: WatchList(words=["join isis"], action=Action.BLOCK),
        Category.HATE: WatchList(words=[]),
    }
)


@pytest.mark.parametrize(
    ("term", "theme", "word", "action"),
    [
        ("how to stop SELF   HARM", Category.SELFHARM, "self harm", Action.LOG),
        ("suicide prevention", Category.SELFHARM, "suicide", Action.LOG),
        ("join isis now", Category.EXTREMISM, "join isis", Action.BLOCK),
        ("suicide and join isis", Category.EXTREMISM, "join isis", Action.BLOCK),  # block wins
        ("selfharmony", None, None, None),  # whole words only
        ("suicidesquad", None, None, None),
        ("homework help", None, None, None),
    ],
)
def test_watch(term: str, theme: Category | None, word: str | None, action: Action | None) -> None:
    hit = WATCHER.match(term)
    assert (hit.theme, hit.word, hit.action) == (theme, word, action) if hit else theme is None
