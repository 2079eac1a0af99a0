"""SafeSearch on requests the proxy can see: the provider table's URL parameter and header, applied.

Which hosts, parameters and headers is decided in :mod:`filterproxy.classify.safesearch`, the table
the DNS path applies too; this module only edits paths. Pure functions, tested without a proxy.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qsl, urlencode

from filterproxy.classify.safesearch import YOUTUBE, Enforcement, UrlRule, enforcement, provider_of

YouTubeMode = Literal["strict", "moderate", "off"]
YOUTUBE_HEADER = YOUTUBE.header or "YouTube-Restrict"


def force_param(rule: UrlRule, path: str) -> str | None:
    """``path`` with the rule's parameter forced to its value, or None when nothing must change."""
    route, _, query = path.partition("?")
    if not rule.covers(route):
        return None
    pairs = parse_qsl(query, keep_blank_values=True)
    if [v for k, v in pairs if k == rule.param] == [rule.value]:
        return None
    kept = [(k, v) for k, v in pairs if k != rule.param]
    kept.append((rule.param, rule.value))
    return f"{route}?{urlencode(kept)}"


def changes(found: Enforcement | None, path: str) -> tuple[str | None, tuple[str, str] | None]:
    """The new path (or None) and the header to set (or None) for one enforcement."""
    if found is None:
        return None, None
    rule = found.provider.url
    return (None if rule is None else force_param(rule, path)), found.header


class _Strict:
    safesearch = True
    youtube = "strict"


def enforce_safesearch(host: str, path: str) -> str | None:
    """The path with the host's SafeSearch parameter forced on, or None (a group with SafeSearch on)."""
    return changes(enforcement(host, _Strict()), path)[0]


def youtube_header(host: str, mode: YouTubeMode) -> str | None:
    """The ``YouTube-Restrict`` value for a request to ``host`` in a group with this mode, or None."""
    provider = provider_of(host)
    if provider is None or provider.header != YOUTUBE_HEADER or mode == "off":
        return None
    return mode.capitalize()
