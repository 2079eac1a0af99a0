"""SafeSearch by URL parameters, and the YouTube restriction header, for requests the proxy can see.

Pure functions over host and path so they are tested without a proxy. The DNS path enforces
SafeSearch by CNAME (forcesafesearch.google.com ...); these rules cover intercepted HTTPS and
plain HTTP, where the engine may be reached by any address.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qsl, urlencode

YouTubeMode = Literal["strict", "moderate", "off"]

#: The search endpoints that take a SafeSearch parameter: (site suffix, path prefixes, param, value).
_RULES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("google.", ("/search", "/images", "/webhp", "/complete/search"), "safe", "active"),
    ("bing.com", ("/search", "/images/search", "/videos/search", "/AS/Suggestions"), "adlt", "strict"),
    ("duckduckgo.com", ("/", "/html", "/lite", "/d.js", "/i.js", "/v.js"), "kp", "1"),
)

YOUTUBE_HOSTS = (
    "youtube.com",
    "m.youtube.com",
    "youtubei.googleapis.com",
    "youtube.googleapis.com",
    "www.youtube-nocookie.com",
)
YOUTUBE_HEADER = "YouTube-Restrict"


def is_google_host(host: str) -> bool:
    """www.google.com, google.co.uk, www.google.de ... but not mail.google.com or google.evil.example."""
    labels = host.removeprefix("www.").split(".")
    return labels[0] == "google" and 2 <= len(labels) <= 3 and all(len(x) <= 3 for x in labels[1:])


def matches_site(host: str, site: str) -> bool:
    """Whether ``host`` is ``site`` or under it; the site ``google.`` stands for Google's search hosts."""
    if site == "google.":
        return is_google_host(host)
    return host == site or host.endswith("." + site)


def enforce_safesearch(host: str, path: str) -> str | None:
    """The path with the SafeSearch parameter forced on, or None when nothing must change."""
    route, _, query = path.partition("?")
    for site, prefixes, param, value in _RULES:
        if not matches_site(host, site) or not any(
            route == p or route.startswith(p + "/") or (p != "/" and route.startswith(p)) for p in prefixes
        ):
            continue
        pairs = parse_qsl(query, keep_blank_values=True)
        if [v for k, v in pairs if k == param] == [value]:
            return None
        kept = [(k, v) for k, v in pairs if k != param]
        kept.append((param, value))
        return f"{route}?{urlencode(kept)}"
    return None


def youtube_header(host: str, mode: YouTubeMode) -> str | None:
    """The ``YouTube-Restrict`` value for a request to ``host``, or None when none applies."""
    if mode == "off":
        return None
    if not any(matches_site(host, h) for h in YOUTUBE_HOSTS):
        return None
    return "Strict" if mode == "strict" else "Moderate"
