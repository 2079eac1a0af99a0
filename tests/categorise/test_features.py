"""Features of a name: suffix split, leetspeak, tokens, lexicon hits and the protective rule."""

from __future__ import annotations

import pytest

from filterproxy.categorise.features import deleet, features, split_name, tokens
from filterproxy.categorise.lexicon import lexicon_hits, protective


@pytest.mark.parametrize(
    ("name", "body", "suffix"),
    [
        ("www.bbc.co.uk", "bbc", "co.uk"),
        ("18teenvid.com", "18teenvid", "com"),
        ("cdn.cat8.stormfront.org", "cat8.stormfront", "org"),
        ("m.example.net", "example", "net"),
    ],
)
def test_split_name(name: str, body: str, suffix: str) -> None:
    assert split_name(name) == (body, suffix)


@pytest.mark.parametrize(
    ("text", "plain"),
    [("p0rn", "porn"), ("s3xy", "sexy"), ("c4sino", "casino"), ("18teen", "18teen"), ("85porn", "85porn")],
)
def test_leetspeak_between_letters_is_read_as_letters(text: str, plain: str) -> None:
    assert deleet(text) == plain


def test_tokens_split_at_digits_and_hyphens() -> None:
    assert tokens("18teen-vid.x9tube") == ["teen", "vid", "tube"]


def test_features_carry_suffix_ngrams_tokens_and_lexicon() -> None:
    found = features("www.p0rn-hub.co.uk")
    assert "t:co.uk" in found and "porn" in found and "w:porn" in found and "l:adult" in found
    assert not any("www" in f for f in found)  # the www. label carries nothing


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ("freeporntube", ["adult"]),
        ("bet-now", ["gambling"]),
        ("alphabet", []),  # a short word counts only as a whole token
        ("kratomshop", ["drugs"]),
    ],
)
def test_lexicon_hits(text: str, hits: list[str]) -> None:
    assert lexicon_hits(text) == hits


@pytest.mark.parametrize(
    ("body", "suffix", "protected"),
    [
        ("sussex", "ac.uk", "ac.uk"),
        ("scunthorpe", "gov.uk", "gov.uk"),
        ("begambleaware", "org", "begambleaware"),
        ("gamblingawareness", "org", "awareness"),
        ("talktofrank", "com", "talktofrank"),
        ("hausgemachte-nudeln", "de", "nudel"),  # accidental: nudel holds nude
        ("peacocktv", "com", "peacock"),
        ("casinoroyal", "com", None),
    ],
)
def test_protective_words_and_vetted_suffixes(body: str, suffix: str, protected: str | None) -> None:
    assert protective(body, suffix) == protected
