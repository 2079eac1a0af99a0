"""A hostname as feature strings: character n-grams, tokens, leetspeak-normalised forms, the TLD.

Pure and deterministic (no hashing with Python's per-process ``hash``), so a model trained in one
process scores identically in another. The public suffix is split off first: ``bbc.co.uk`` and
``bbc.com`` share every n-gram, and the suffix becomes one ``t:`` feature of its own.
"""

from __future__ import annotations

from filterproxy.categorise.lexicon import lexicon_hits
from filterproxy.classify.site import public_suffix_start

NGRAM_SIZES = (3, 4, 5)
MAX_BODY = 80  # longer names (tracking subdomains) are cut: their tail carries the site
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"})
_SKIP_LABELS = frozenset({"www", "m", "mobile", "en", "web", "wap", "amp", "cdn", "api", "static", "img", "images"})


def split_name(name: str) -> tuple[str, str]:
    """``(body, suffix)``: the labels left of the public suffix, and the suffix itself."""
    start = public_suffix_start(name)
    suffix = name[start:]
    body = name[: start - 1] if start > 0 else name
    labels = [label for label in body.split(".") if label not in _SKIP_LABELS] or body.split(".")
    return ".".join(labels)[-MAX_BODY:], suffix


def deleet(text: str) -> str:
    """``p0rn`` -> ``porn``: a digit between two letters reads as the letter it looks like."""
    if not any(c.isdigit() for c in text):
        return text
    chars = list(text)
    for i in range(1, len(chars) - 1):
        if chars[i].isdigit() and chars[i - 1].isalpha() and chars[i + 1].isalpha():
            chars[i] = chars[i].translate(_LEET)
    return "".join(chars)


def tokens(body: str) -> list[str]:
    """Labels split at dots, hyphens, underscores and digit runs: ``18teen-vid.x`` -> teen, vid, x."""
    out: list[str] = []
    word: list[str] = []
    for c in body:
        if c.isalpha():
            word.append(c)
        else:
            if len(word) > 1:
                out.append("".join(word))
            word = []
    if len(word) > 1:
        out.append("".join(word))
    return out


def features(name: str) -> list[str]:
    """Every feature string of a normalised name (lower case, punycode, no trailing dot)."""
    body, suffix = split_name(name)
    plain = deleet(body)
    text = "^" + plain.replace("-", "").replace("_", "") + "$"
    out = [f"t:{suffix}"]
    for size in NGRAM_SIZES:
        out.extend(text[i : i + size] for i in range(len(text) - size + 1))
    out.extend("w:" + word for word in tokens(plain))
    out.extend("l:" + hit for hit in lexicon_hits(plain))
    return out
