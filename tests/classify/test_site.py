"""Registrable domains from public suffix rules handed in (the core reads no file)."""

from __future__ import annotations

import pytest

from filterproxy.classify.site import PublicSuffixes, icann_rules

SNAPSHOT = """\
// ===BEGIN ICANN DOMAINS===
com
uk
co.uk
// a comment
jp
kawasaki.jp
*.kawasaki.jp
!city.kawasaki.jp
中国
// ===END ICANN DOMAINS===
// ===BEGIN PRIVATE DOMAINS===
github.io
"""


@pytest.fixture(scope="module")
def suffixes() -> PublicSuffixes:
    return PublicSuffixes(icann_rules(SNAPSHOT))


def test_only_the_icann_section_is_read() -> None:
    rules = icann_rules(SNAPSHOT)
    assert "github.io" not in rules and "co.uk" in rules and "!city.kawasaki.jp" in rules
    assert PublicSuffixes(rules).size == 8


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
        ("www.xn--fiqs8s", "www.xn--fiqs8s"),  # 中国 is a suffix (rules are normalised to punycode)
    ],
)
def test_registrable_domain(suffixes: PublicSuffixes, name: str, site: str) -> None:
    assert suffixes.registrable_domain(name) == site
    assert suffixes.registrable_domain(name) == site  # the cached answer is the same


def test_the_rules_decide_not_a_built_in_table() -> None:
    bare = PublicSuffixes(["com"])
    assert bare.registrable_domain("www.bbc.co.uk") == "co.uk"  # without co.uk, uk is the last label
    assert bare.public_suffix_start("www.example.com") == len("www.example.")
