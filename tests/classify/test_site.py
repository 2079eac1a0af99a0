"""Registrable domains from the bundled public suffix snapshot (never fetched)."""

from __future__ import annotations

import pytest

from filterproxy.classify.site import registrable_domain


@pytest.mark.parametrize(
    ("name", "site"),
    [
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("bbc.co.uk", "bbc.co.uk"),
        ("co.uk", "co.uk"),
        ("a.b.c.d.com", "d.com"),
        ("foo.github.io", "github.io"),  # private suffixes are ignored on purpose
        ("y.x.kawasaki.jp", "y.x.kawasaki.jp"),  # *.kawasaki.jp wildcard
        ("a.city.kawasaki.jp", "city.kawasaki.jp"),  # !city.kawasaki.jp exception
        ("a.b.example", "b.example"),  # unknown TLD: last two labels
        ("localhost", "localhost"),
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8::1", "2001:db8::1"),
        ("www.xn--fiqs8s", "www.xn--fiqs8s"),  # 中国 is a suffix
    ],
)
def test_registrable_domain(name: str, site: str) -> None:
    assert registrable_domain(name) == site
