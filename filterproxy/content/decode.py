"""Bytes of a page prefix to text: the charset a browser would use, in the order HTML says.

A byte-order mark wins, then the ``charset`` of the Content-Type header, then a ``<meta charset>``
(or ``http-equiv`` Content-Type) in the first 2 KB, then UTF-8 if the bytes are valid UTF-8, else
windows-1252 (what browsers assume for undeclared legacy pages). A prefix cut in the middle of a
multi-byte character is not an error: the partial character is dropped.
"""

from __future__ import annotations

import codecs
import re

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)
_SNIFF_BYTES = 2048
FALLBACK = "windows-1252"


def charset_of(data: bytes, content_type: str | None) -> str:
    """The name of the codec to decode ``data`` with (always one Python knows)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    declared = _HEADER_CHARSET.search(content_type or "")
    if declared is not None and (header := _known(declared.group(1))) is not None:
        return header
    meta = _META_CHARSET.search(data[:_SNIFF_BYTES])
    if meta is not None and (inline := _known(meta.group(1).decode("ascii", "replace"))) is not None:
        return inline
    return "utf-8" if _valid_utf8(data) else FALLBACK


def decode(data: bytes, content_type: str | None) -> str:
    """The text of ``data`` (a page or a prefix of one); undecodable bytes become U+FFFD."""
    name = charset_of(data, content_type)
    decoder = codecs.getincrementaldecoder(name)(errors="replace")
    text: str = decoder.decode(data, final=False)  # a cut character at the end is left out
    return text.removeprefix("\ufeff")


def _known(label: str) -> str | None:
    label = label.strip().lower()
    if label in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        return FALLBACK  # as browsers do: these labels mean windows-1252
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a character cut at the end of a prefix, after UTF-8 seen working: still UTF-8
        cut = exc.start >= len(data) - 3 and exc.reason == "unexpected end of data"
        return cut and not data[: exc.start].isascii()
    return True
