"""Reading category lists: every supported format turned into one stream of entries.

``parse_file``/``parse_source`` yield an :class:`Entry` for each listed name, URL or address and a
:class:`BadLine` (``file:line: reason``) for each line that lists nothing, lazily: a list is never
held in memory. Formats (all also gzip-compressed, detected by magic bytes):

``plain``    one name per line, ``#`` comments (also trailing), ``*.name`` wildcards, IP entries
``hosts``    ``0.0.0.0 name [name...]`` (any address; localhost-style names ignored). The plain
             parser accepts hosts lines too, since real lists mix them.
``adblock``  ``||name^`` blocks, ``@@||name^`` allows; other adblock syntax is *unsupported*
``urls``     UT1 ``host/path`` lines (scheme stripped, host ``www.`` stripped, no trailing ``/``)
``ut1``      a UT1 category: directory, tarball or flat ``<cat>.domains.gz``/``<cat>.urls.gz``
``rpz``      Response Policy Zone master files (QNAME and rpz-ip triggers)

An entry always covers the name and all its subdomains. Names are normalised (case, trailing dot,
UTS-46 IDN to punycode). Single-label names (``com``) and numeric top-level labels are bad lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from filterproxy.lists.parsers.adblock import parse_adblock_lines
from filterproxy.lists.parsers.base import BadLine, Entry, EntryKind, Parsed
from filterproxy.lists.parsers.lines import parse_domain_lines, parse_url_lines
from filterproxy.lists.parsers.rpz import parse_rpz_lines
from filterproxy.lists.parsers.text import head_lines, opened_file
from filterproxy.lists.parsers.ut1 import Part, is_tarball, ut1_parts
from filterproxy.lists.settings import ListFormat, SourceSettings

__all__ = [
    "BadLine",
    "Entry",
    "EntryKind",
    "ListFormat",
    "detect_format",
    "locate_entry",
    "parse_file",
    "parse_source",
]

_LINE_PARSERS = {
    "plain": parse_domain_lines,
    "hosts": parse_domain_lines,
    "adblock": parse_adblock_lines,
    "urls": parse_url_lines,
    "rpz": parse_rpz_lines,
}


def parse_file(path: Path, fmt: ListFormat = "auto", *, name: str | None = None,
               ut1_category: str | None = None) -> Iterator[Parsed]:
    """Entries and bad lines of one list file, directory or tarball (``name`` labels bad lines)."""
    return _parse(path, fmt, ut1_category, name or str(path))


def parse_source(source: SourceSettings) -> Iterator[Parsed]:
    """Entries and bad lines of a configured source (``ut1_category`` picks a UT1 folder)."""
    return _parse(source.path, source.format, source.ut1_category, str(source.path))


def _parse(path: Path, fmt: ListFormat, ut1_category: str | None, display: str) -> Iterator[Parsed]:
    # A generator, so that every error (missing file, corrupt gzip) surfaces while iterating.
    for _name, items in _parts(path, fmt, ut1_category, display):
        yield from items


def _parts(path: Path, fmt: ListFormat, ut1_category: str | None, display: str) -> Iterator[Part]:
    """``(file name, entries)`` per underlying file: one, or a UT1 category's domains and urls."""
    packed = path.is_dir() or is_tarball(path)
    if fmt == "auto":
        fmt = detect_format(path, [] if packed else head_lines(path, display))
    if fmt == "ut1" and packed:
        yield from ut1_parts(path, ut1_category, display)
        return
    if fmt == "ut1":
        fmt = "urls" if _stem(path).endswith("urls") else "plain"
    yield display, _parse_lines(path, fmt, display)


def _parse_lines(path: Path, fmt: ListFormat, display: str) -> Iterator[Parsed]:
    with opened_file(path, display) as lines:
        yield from _LINE_PARSERS[fmt](lines, display)


def locate_entry(source: SourceSettings, value: str) -> tuple[str, int] | None:
    """``(file, line)`` of the first entry with ``value`` in ``source`` (for explaining a verdict).

    For UT1 sources the file is the ``domains``/``urls`` file (``archive!member`` in a tarball).
    URL paths compare case-insensitively, as URL matching does.
    """
    lowered = value.lower()
    for name, items in _parts(source.path, source.format, source.ut1_category, str(source.path)):
        for item in items:
            if isinstance(item, Entry) and (
                item.value == value or (item.kind == "url" and item.value.lower() == lowered)
            ):
                return name, item.line
    return None


def detect_format(path: Path, head: list[str]) -> ListFormat:
    """Guess a list's format from its name, then from its first lines."""
    if path.is_dir() or is_tarball(path):
        return "ut1"
    stem = _stem(path)
    if stem.endswith((".rpz", ".zone")) or stem.startswith("rpz"):
        return "rpz"
    if stem == "urls" or stem.endswith(".urls"):
        return "urls"
    return _detect_content(head)


def _stem(path: Path) -> str:
    return path.name.lower().removesuffix(".gz").removesuffix(".txt")


def _detect_content(head: Iterable[str]) -> ListFormat:
    votes = {"adblock": 0, "rpz": 0, "urls": 0, "hosts": 0, "plain": 0}
    for raw in head:
        text = raw.strip()
        if not text or (text[0] in "#!;" and not text.startswith("##")):
            if text.startswith("! Title") or text.startswith("[Adblock"):
                votes["adblock"] += 5
            continue
        votes[_line_vote(text)] += 1
    best = max(votes, key=lambda k: votes[k])
    return best if votes[best] else "plain"  # type: ignore[return-value]


def _line_vote(text: str) -> str:
    if text.startswith(("||", "@@||", "[Adblock")) or "##" in text or "#@#" in text:
        return "adblock"
    if text.startswith(("$ORIGIN", "$TTL")) or " CNAME " in text.upper() or " SOA " in text.upper():
        return "rpz"
    tokens = text.split()
    if len(tokens) >= 2 and tokens[0][:1].isdigit() | (":" in tokens[0]):
        return "hosts"
    if "/" in tokens[0] and not tokens[0][:1].isdigit():
        return "urls"
    return "plain"
