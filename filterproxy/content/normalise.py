"""Page text as the phrase lists see it: markup removed, obfuscation undone, one list of words.

Both the page and every phrase go through :func:`words`, so the two always agree on spelling.
What is undone, and why it is safe to undo:

- markup: scripts, styles and comments are dropped (not shown); inline tags (``b``, ``span``,
  ``a`` ...) vanish without a space, so ``p<b></b>orn`` is one word; block tags end a word;
  entities are decoded (``&#112;orn``). The page title, meta description/keywords and image
  ``alt`` texts are kept: they say what the page is about.
- case, accents and compatibility forms (full-width letters, ligatures): NFKD, combining marks
  dropped, case folded. Zero-width characters and soft hyphens are removed.
- look-alike letters from Cyrillic and Greek (``porn`` spelt with a Cyrillic er) map to Latin.
- leetspeak (``p0rn``, ``$ex``, ``c0ca1ne``): only inside a word with two letters or more, so
  numbers and quantities such as ``2024``, ``18`` or ``1g`` stay as they are.
- inserted punctuation (``p.o.r.n``, ``s-e-x``): a word whose pieces are all one or two letters
  long is joined; otherwise punctuation separates words (``self-harm`` is ``self harm``).
- inserted spaces (``p o r n``): a run of three or more single letters is joined.
"""

from __future__ import annotations

import html
import re
import unicodedata

_DROPPED = re.compile(
    r"<script\b.*?(?:</script\s*>|\Z)|<style\b.*?(?:</style\s*>|\Z)|<!--.*?(?:-->|\Z)|<template\b.*?(?:</template\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_ATTR_TEXT = re.compile(
    r"""<(?:meta\b[^>]*\bname\s*=\s*["']?(?:description|keywords)["']?[^>]*\bcontent\s*=\s*["']([^"'>]*)"""
    r"""|img\b[^>]*\balt\s*=\s*["']([^"'>]*))""",
    re.IGNORECASE,
)
_INLINE = (
    "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "font", "i", "ins", "kbd", "mark",
    "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr",
)  # fmt: skip
_INLINE_TAG = re.compile(r"</?(?:" + "|".join(_INLINE) + r")(?![a-zA-Z0-9])[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_SPACED = re.compile(r"(?<!\S)(?:[^\W\d_] ){2,}[^\W\d_](?!\S)")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
# Cyrillic, Greek and IPA letters that look like Latin ones, and the Latin letter each stands for.
_LOOKALIKE = str.maketrans(
    "\u0430\u0432\u0435\u0451\u043a\u043c\u043d\u043e\u0440\u0441\u0442\u0443\u0445\u0456\u0458\u0455\u0501\u0261\u03b1\u03b2\u03b5\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7",
    "abeekmhopctyxijsdgabeikvoptux",
)
# before case folding: a Greek capital N must become N, not the v its small letter looks like
_UPPER_LOOKALIKE = str.maketrans(
    "\u0391\u0392\u0395\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7\u0396"
    "\u0410\u0412\u0415\u041a\u041c\u041d\u041e\u0420\u0421\u0422\u0425\u0405\u0406\u0408",
    "ABEHIKMNOPTYXZABEKMHOPCTXSIJ",
)
_GREEK_CYRILLIC = re.compile(r"[\u0370-\u04ff\u0500-\u052f\u0261]")
_LEETY = re.compile(r"[013457@$!]")
_BANG = re.compile(r"(?<=[^\W\d_])!(?=[^\W\d_])")  # l!ve: an exclamation mark inside a word is an i
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_PIECES = re.compile(r"[^\W_]+")
_LETTERS = re.compile(r"[^\W\d_]")


def page_text(markup: str) -> str:
    """The visible text of an HTML page (plus title, meta description/keywords and alt texts)."""
    markup = _DROPPED.sub(" ", markup)
    extra = " ".join(a or b for a, b in _ATTR_TEXT.findall(markup))
    text = _TAG.sub(" ", _INLINE_TAG.sub("", markup))  # inline tags join, the others separate
    return html.unescape(f"{text} {extra}" if extra else text)


def fold(text: str) -> str:
    """Case, accents, compatibility forms, invisible characters and look-alike letters folded away."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).translate(_INVISIBLE)
        text = _COMBINING.sub("", text)
        if _GREEK_CYRILLIC.search(text) is None:  # translate() costs a dict lookup per character
            return text.casefold()
        return text.translate(_UPPER_LOOKALIKE).casefold().translate(_LOOKALIKE)
    return text.lower()


def words(text: str) -> list[str]:
    """The words of plain text, folded and de-obfuscated (see the module docstring)."""
    out: list[str] = []
    append, extend, pieces_of = out.append, out.extend, _PIECES.findall
    for token in fold(text).split():
        if token.isalpha():
            append(token)
            continue
        if _LEETY.search(token) is not None and len(_LETTERS.findall(token)) >= 2:
            token = _BANG.sub("i", token.translate(_LEET))  # not in 1g, 4k, 3d: one letter and digits is a quantity
        pieces = pieces_of(token)
        if len(pieces) > 1 and all(len(p) <= 2 for p in pieces):
            append("".join(pieces))
        else:
            extend(pieces)
    joined = " ".join(out)
    if _SPACED.search(joined) is None:
        return out
    return _SPACED.sub(_unspace, joined).split()  # p o r n -> porn


def _unspace(match: re.Match[str]) -> str:
    return match.group().replace(" ", "")


def html_words(markup: str) -> list[str]:
    return words(page_text(markup))
