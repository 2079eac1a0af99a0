"""Normalisation: page text and phrases meet in one spelling, whatever the page does to hide it."""

from __future__ import annotations

import pytest

from filterproxy.content.normalise import html_words, page_text, words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Free PORN", ["free", "porn"]),
        ("p.o.r.n", ["porn"]),
        ("p-o-r-n s_e_x", ["porn", "sex"]),
        ("p o r n here", ["porn", "here"]),
        ("p0rn $ex c0ca1ne fr33 sp1ns", ["porn", "sex", "cocaine", "free", "spins"]),
        ("café naïve ÉCOLE", ["cafe", "naive", "ecole"]),
        ("\uff26\uff52\uff45\uff45 \uff50\uff4f\uff52\uff4e", ["free", "porn"]),  # full-width forms
        ("\u0440orn \u03a1\u039f\u0052\u039d", ["porn", "porn"]),  # Cyrillic er; Greek capitals
        ("po\u200brn por\u00adn", ["porn", "porn"]),  # zero-width space, soft hyphen
        ("self-harm", ["self", "harm"]),  # real words joined by punctuation stay words
        ("in 2024 only 18+ may", ["in", "2024", "only", "18", "may"]),  # numbers stay numbers
        ("a b", ["a", "b"]),  # two single letters are not a spaced-out word
        ("l!ve c4ms, wow!", ["live", "cams", "wow"]),  # ! inside a word is an i; at its end, punctuation
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_markup_is_removed_but_inline_tags_do_not_split_words() -> None:
    markup = (
        "<html><head><title>Title here</title><style>.porn{}</style><script>var porn = 1;</script>"
        '<meta name="description" content="meta words"></head><body><!-- porn in a comment -->'
        '<p>p<b></b>orn and &#112;orn &amp; <span>s</span>ex</p><div>one</div><div>two</div><img src=x alt="alt text">'
    )
    assert html_words(markup) == ["title", "here", "porn", "and", "porn", "sex", "one", "two", "meta", "words", "alt",
                                  "text"]  # fmt: skip


def test_unclosed_script_is_dropped_to_the_end() -> None:
    assert page_text("<p>kept</p><script>never shown").split() == ["kept"]
