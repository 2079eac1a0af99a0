"""Adblock-style domain rules as DNS filters use them (AdGuard Home, Pi-hole, Blocky).

``||example.org^`` blocks the name and its subdomains, ``@@||example.org^`` allows it. Everything
else adblock syntax can say (cosmetic ``##`` rules, URL patterns, regexes, most ``$`` options)
cannot be enforced on a name and is reported as *unsupported*, apart from malformed lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from filterproxy.lists.parsers.base import BadLine, Entry, Parsed, check_name

#: ``$`` options that do not narrow a domain rule, so the rule still means "the whole name".
_HARMLESS_OPTIONS = frozenset({"important", "all", "document", "doc", "first-party", "1p", "third-party", "3p"})
_COSMETIC = ("##", "#@#", "#?#", "#$#", "#%#", "#@$#", "#@?#", "$$", "$@$")


def parse_adblock_lines(lines: Iterable[str], path: str) -> Iterator[Parsed]:
    """Parse an adblock filter list; ``!`` and ``#`` lines and ``[Adblock ...]`` headers are comments."""
    for number, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text or text[0] == "!" or (text[0] == "[" and text[-1] == "]"):
            continue
        if text[0] == "#" and not text.startswith(_COSMETIC):
            continue
        yield _rule(text, number, path, raw.rstrip("\n"))


def _rule(text: str, number: int, path: str, raw: str) -> Parsed:
    kind: str = "domain"
    if text.startswith("@@"):
        kind, text = "allow", text[2:]
    if any(marker in text for marker in _COSMETIC):
        return BadLine(path, number, "cosmetic rule (not enforceable on a name)", raw, True)
    if not text.startswith("||"):
        return BadLine(path, number, "not a '||name^' domain rule", raw, True)
    body, _, options = text[2:].partition("$")
    if options and not _HARMLESS_OPTIONS.issuperset(o.strip().lower() for o in options.split(",")):
        return BadLine(path, number, f"rule options ${options[:40]} not supported", raw, True)
    if not body.endswith(("^", "^|")):
        return BadLine(path, number, "domain rule without a closing '^'", raw, True)
    name = body.rstrip("|").removesuffix("^")
    if "/" in name or "^" in name:
        return BadLine(path, number, "URL pattern (not enforceable on a name)", raw, True)
    try:
        return Entry("allow" if kind == "allow" else "domain", check_name(name), number)
    except ValueError as exc:
        return BadLine(path, number, str(exc), raw)
