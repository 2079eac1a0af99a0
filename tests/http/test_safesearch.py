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
        ("ok.example", "/search?q=a", None),
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
    ],
)
def test_youtube_header(host: str, mode: str, expected: str | None) -> None:
    assert youtube_header(host, mode) == expected  # type: ignore[arg-type]
