"""SafeSearch parameters and the YouTube header, as pure functions."""

from __future__ import annotations

import pytest

from filterproxy.http.safesearch import enforce_safesearch, youtube_header


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        ("www.google.com", "/search?q=a", "/search?q=a&safe=active"),
        ("www.google.co.uk", "/search?q=a&safe=off&safe=images", "/search?q=a&safe=active"),
        ("google.de", "/search", "/search?safe=active"),
        ("www.google.com", "/search?q=a&safe=active", None),
        ("mail.google.com", "/search?q=a", None),
        ("google.evil.example", "/search?q=a", None),
        ("www.google.com", "/maps?q=a", None),
        ("www.bing.com", "/search?q=a&adlt=off", "/search?q=a&adlt=strict"),
        ("www.bing.com", "/images/search?q=a", "/images/search?q=a&adlt=strict"),
        ("duckduckgo.com", "/?q=a", "/?q=a&kp=1"),
        ("duckduckgo.com", "/html?q=a&kp=-2", "/html?q=a&kp=1"),
        ("html.duckduckgo.com", "/html/?q=a&kp=-2", "/html/?q=a&kp=1"),
        ("lite.duckduckgo.com", "/lite/?q=a", "/lite/?q=a&kp=1"),
        ("www.google.com.au", "/complete/search?q=a&client=x", "/complete/search?q=a&client=x&safe=active"),
        ("ok.example", "/search?q=a", None),
        # not Google search front-ends (the old "three letters or fewer" rule caught them): see docs/safesearch.md
        ("google.org", "/search?q=a", None),
        ("google.net", "/search?q=a", None),
        ("google.xyz", "/search?q=a", None),
        ("cn.bing.com", "/search?q=a", None),  # not in the table: DNS cannot enforce it either
        ("www.youtube.com", "/results?search_query=a", None),  # YouTube: by header, not parameter
    ],
)
def test_enforce_safesearch(host: str, path: str, expected: str | None) -> None:
    assert enforce_safesearch(host, path) == expected


@pytest.mark.parametrize(
    ("host", "mode", "expected"),
    [
        ("www.youtube.com", "strict", "Strict"),
        ("m.youtube.com", "moderate", "Moderate"),
        ("youtubei.googleapis.com", "strict", "Strict"),
        ("www.youtube.com", "off", None),
        ("notyoutube.com", "strict", None),
        ("youtube.com", "strict", "Strict"),
        ("music.youtube.com", "moderate", "Moderate"),
        ("www.youtube-nocookie.com", "strict", "Strict"),
        ("restrict.youtube.com", "strict", None),  # the enforcing host itself
        ("www.google.com", "strict", None),
    ],
)
def test_youtube_header(host: str, mode: str, expected: str | None) -> None:
    assert youtube_header(host, mode) == expected  # type: ignore[arg-type]
