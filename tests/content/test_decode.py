"""Charset detection: BOM, then the header, then <meta charset>, then UTF-8, else windows-1252."""

from __future__ import annotations

import codecs

import pytest

from filterproxy.content.decode import charset_of, decode


@pytest.mark.parametrize(
    ("data", "header", "expected"),
    [
        (codecs.BOM_UTF8 + "café".encode(), "text/html; charset=windows-1252", "utf-8"),  # BOM wins
        ("café".encode("cp1252"), "text/html; charset=windows-1252", "cp1252"),
        ('<meta charset="iso-8859-2"><p>\xb1</p>'.encode("latin-1"), "text/html", "iso8859-2"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">', None, "koi8-r"),
        ("café".encode(), "text/html", "utf-8"),
        ("café".encode("cp1252"), "text/html", "windows-1252"),  # not UTF-8: the browsers' legacy default
        ("café".encode("cp1252"), "text/html; charset=no-such-codec", "windows-1252"),
        (b"plain", "text/plain; charset=ISO-8859-1", "windows-1252"),  # as browsers read that label
    ],
)
def test_charset_of(data: bytes, header: str | None, expected: str) -> None:
    assert codecs.lookup(charset_of(data, header)).name == codecs.lookup(expected).name


def test_a_prefix_cut_inside_a_character_is_still_utf8() -> None:
    data = "naïve ".encode() * 10 + "é".encode()[:1]
    assert charset_of(data, None) == "utf-8"
    assert decode(data, None) == "naïve " * 10


def test_utf16_with_bom() -> None:
    assert decode(codecs.BOM_UTF16_LE + "hello".encode("utf-16-le"), None) == "hello"
