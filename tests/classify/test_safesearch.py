"""The SafeSearch provider table: exact hosts, one provider per host, modes per group setting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from filterproxy.classify import safesearch
from filterproxy.classify.safesearch import (
    BING,
    DUCKDUCKGO,
    GOOGLE,
    PROVIDERS,
    YOUTUBE,
    Provider,
    UrlRule,
    enforcement,
    mode_for,
    provider_of,
)
from filterproxy.classify.settings import Group


@dataclass(frozen=True)
class Settings:
    safesearch: bool
    youtube: str


@pytest.mark.parametrize(
    ("host", "provider"),
    [
        ("www.google.com", GOOGLE),
        ("google.com", GOOGLE),
        ("www.google.co.uk", GOOGLE),
        ("google.de", GOOGLE),
        ("www.google.com.au", GOOGLE),
        ("www.google.cat", GOOGLE),
        ("www.google.co.za", GOOGLE),
        ("bing.com", BING),
        ("www.bing.com", BING),
        ("duckduckgo.com", DUCKDUCKGO),
        ("html.duckduckgo.com", DUCKDUCKGO),
        ("youtube.com", YOUTUBE),
        ("music.youtube.com", YOUTUBE),
        ("youtubei.googleapis.com", YOUTUBE),
        ("www.youtube-nocookie.com", YOUTUBE),
    ],
)
def test_listed_hosts(host: str, provider: Provider) -> None:
    assert provider_of(host) is provider


@pytest.mark.parametrize(
    "host",
    [
        "google.org",  # Google.org, the charity: no search front-end
        "google.net",  # redirects to www.google.com, which is covered
        "google.xyz",
        "www.google.org",
        "mail.google.com",
        "images.google.com",
        "google.evil.example",
        "www.google.com.evil.example",
        "google.co.xx",  # shaped like a country domain, but Google publishes none there
        "notyoutube.com",
        "studio.youtube.com",
        "cn.bing.com",
        "bing.com.example",
        "forcesafesearch.google.com",  # the enforcing hosts themselves: never rewritten (no CNAME loop)
        "restrict.youtube.com",
        "strict.bing.com",
        "safe.duckduckgo.com",
        "WWW.GOOGLE.COM",  # callers hand in normalised names
        "",
    ],
)
def test_unlisted_hosts(host: str) -> None:
    assert provider_of(host) is None
    assert enforcement(host, Settings(True, "strict")) is None


def test_every_google_domain_with_and_without_www() -> None:
    assert len(safesearch.GOOGLE_DOMAINS) == len(set(safesearch.GOOGLE_DOMAINS)) > 150
    for domain in safesearch.GOOGLE_DOMAINS:
        assert domain.startswith("google.") and provider_of(domain) is GOOGLE
        assert provider_of(f"www.{domain}") is GOOGLE


@pytest.mark.parametrize(
    ("safesearch_on", "youtube", "search", "video"),
    [
        (True, "strict", "strict", "strict"),
        (True, "moderate", "strict", "moderate"),
        (True, "off", "strict", None),
        (False, "strict", None, "strict"),
        (False, "off", None, None),
    ],
)
def test_modes_follow_the_two_group_settings(
    safesearch_on: bool, youtube: str, search: str | None, video: str | None
) -> None:
    group = Group.model_validate({"safesearch": safesearch_on, "youtube": youtube})
    for provider in (GOOGLE, BING, DUCKDUCKGO):
        assert mode_for(provider, group) == search
    assert mode_for(YOUTUBE, group) == video


def test_enforcement_names_cname_and_header() -> None:
    strict = enforcement("www.google.de", Settings(True, "off"))
    assert strict is not None and strict.cname == "forcesafesearch.google.com" and strict.header is None
    moderate = enforcement("m.youtube.com", Settings(False, "moderate"))
    assert moderate is not None and moderate.cname == "restrictmoderate.youtube.com"
    assert moderate.header == ("YouTube-Restrict", "Moderate")
    assert enforcement("m.youtube.com", Settings(True, "off")) is None


def test_every_provider_can_be_enforced_both_ways() -> None:
    """Each provider has a DNS target for each mode it can be in, and an HTTP rewrite (parameter or header)."""
    for provider in PROVIDERS:
        modes = ("strict", "moderate") if provider.setting == "youtube" else ("strict",)
        assert set(provider.cname) == set(modes) and provider.hosts and provider.why
        assert (provider.url is None) != (provider.header is None)
        if provider.url is not None:
            assert provider.url.covers(provider.sample.partition("?")[0])


@pytest.mark.parametrize(
    ("route", "covered"),
    [("/search", True), ("/searchx", True), ("/search/x", True), ("/", False), ("/maps", False)],
)
def test_url_rule_paths(route: str, covered: bool) -> None:
    assert UrlRule(("/search",), "safe", "active").covers(route) is covered
    assert UrlRule(("/",), "kp", "1").covers(route) is (route == "/")


@pytest.mark.parametrize(
    "broken",
    [
        (Provider("a", frozenset({"x.example"}), "safesearch", {"strict": "t.example"}),
         Provider("b", frozenset({"x.example"}), "safesearch", {"strict": "u.example"})),
        (Provider("a", frozenset({"X.example"}), "safesearch", {"strict": "t.example"}),),
        (Provider("a", frozenset({"t.example"}), "safesearch", {"strict": "t.example"}),),
    ],
)
def test_a_broken_table_is_refused(broken: tuple[Provider, ...]) -> None:
    with pytest.raises(ValueError, match="safesearch table"):
        safesearch._index(broken)


def test_the_table_module_imports_nothing_outside_the_core() -> None:
    source = Path(safesearch.__file__).read_text(encoding="utf-8")
    imports = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert imports and all(
        line.startswith(("from __future__", "from collections", "from dataclasses", "from typing"))
        for line in imports
    ), imports


def test_the_docs_page_names_every_host() -> None:
    page = (Path(__file__).parents[2] / "docs" / "safesearch.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z0-9.-]+)`", page))
    missing = [d for d in safesearch.GOOGLE_DOMAINS if d not in named]
    missing += [h for p in PROVIDERS if p is not GOOGLE for h in p.hosts if h not in named]
    missing += [t for p in PROVIDERS for t in p.cname.values() if t not in named]
    assert missing == []
