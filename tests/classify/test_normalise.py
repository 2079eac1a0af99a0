"""Name normalisation: case, space, trailing dot, UTS-46 IDN; properties under arbitrary input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from filterproxy.classify.normalise import normalise_name, normalise_path, split_url


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Example.COM", "example.com"),
        ("  www.example.com.  ", "www.example.com"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("faß.de", "xn--fa-hia.de"),  # UTS-46 non-transitional
        ("\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25.com", "example.com"),  # full-width EXAMPLE folded
    ],
)
def test_normalise(raw: str, name: str) -> None:
    assert normalise_name(raw) == name


@pytest.mark.parametrize("bad", ["", ".", "a..b", "a" * 64 + ".com", "exa mple.com", "x" * 254, "a/b.com"])
def test_invalid_names_say_why(bad: str) -> None:
    with pytest.raises(ValueError):
        normalise_name(bad)


@given(st.text(max_size=80))
def test_normalise_is_idempotent_or_refuses(raw: str) -> None:
    try:
        once = normalise_name(raw)
    except ValueError:
        return
    assert normalise_name(once) == once
    assert once.isascii() and once == once.lower()


@pytest.mark.parametrize(
    ("url", "host", "path"),
    [
        ("https://Example.org:8443/a/b?x=1", "Example.org", "/a/b?x=1"),
        ("example.org", "example.org", "/"),
        ("http://[2001:db8::1]:80/x", "2001:db8::1", "/x"),
        ("http://user:pw@example.org/", "example.org", "/"),
    ],
)
def test_split_url(url: str, host: str, path: str) -> None:
    assert split_url(url) == (host, path)


def test_normalise_path() -> None:
    assert normalise_path("/a/b/#frag") == "/a/b"
    assert normalise_path("x") == "/x"
    assert normalise_path("/") == "/"
