"""SafeSearch providers: the one table both paths apply (DNS by CNAME, HTTP by URL parameter and header).

Each :class:`Provider` names the exact hosts it covers, the group setting that switches it
(``safesearch`` or ``youtube``), the enforcing host the DNS path answers a CNAME to, and what the
proxy changes on requests it can see: a URL parameter on search endpoints, a header. A host is in
the table or not; there is no suffix or pattern match, so the two paths cannot drift apart, and
``tests/classify/test_safesearch_agreement.py`` asks both about every host listed here.

Pure data and lookups: no I/O, nothing imported from outside the core. Why each set is what it
is, and how to add a provider, is written down in ``docs/safesearch.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

Setting = Literal["safesearch", "youtube"]
Mode = Literal["strict", "moderate"]


class GroupSettings(Protocol):
    """The two per-group settings the table reads (``classify.settings.Group`` has them)."""

    @property
    def safesearch(self) -> bool: ...

    @property
    def youtube(self) -> str: ...


@dataclass(frozen=True, slots=True)
class UrlRule:
    """A search endpoint's SafeSearch parameter: the paths it applies to and the value forced."""

    paths: tuple[str, ...]  # a route matches a path exactly, or starts with it (except "/", exact only)
    param: str
    value: str

    def covers(self, route: str) -> bool:
        return any(route == p or (p != "/" and route.startswith(p)) for p in self.paths)


@dataclass(frozen=True, slots=True)
class Provider:
    """One search engine or video site that offers network-enforced safe modes."""

    name: str
    hosts: frozenset[str]
    setting: Setting  # which group setting switches it on
    cname: Mapping[Mode, str]  # DNS: the provider's enforcing host, per mode
    url: UrlRule | None = None  # HTTP: the parameter forced on search URLs
    header: str | None = None  # HTTP: a header whose value is the mode ("Strict", "Moderate")
    terms: tuple[tuple[str, str], ...] = ()  # search-term capture: (path prefix, query parameter)
    sample: str = "/"  # a path the URL rule applies to (docs, tests)
    why: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Enforcement:
    """What one group gets on one provider host."""

    provider: Provider
    mode: Mode

    @property
    def cname(self) -> str:
        return self.provider.cname[self.mode]

    @property
    def header(self) -> tuple[str, str] | None:
        name = self.provider.header
        return None if name is None else (name, self.mode.capitalize())


def _codes(text: str) -> list[str]:
    return text.split()


# Google's search front-ends, from Google's published list (https://www.google.com/supported_domains):
# the global domain, and each country's ccTLD, co.<cc> or com.<cc> domain.
_GOOGLE_TLDS = _codes("""
    com cat ad ae al am as at az ba be bf bg bi bj bs bt by ca cd cf cg ch ci cl cm cn co cv cz de dj dk dm
    dz ee es fi fm fr ga ge gg gl gm gp gr gy hn hr ht hu ie im iq is it je jo kg ki kz la li lk lt lu lv md
    me mg mk ml mn ms mu mv mw ne nl no nr nu pl pn ps pt ro rs ru rw sc se sh si sk sm sn so sr st td tg tk
    tl tm tn to tt vg vu ws
""")
_GOOGLE_CO = _codes("ao bw ck cr id il in jp ke kr ls ma mz nz th tz ug uk uz ve vi za zm zw")
_GOOGLE_COM = _codes("""
    af ag ai ar au bd bh bn bo br bz co cu cy do ec eg et fj gh gi gt hk jm kh kw lb ly mm mt mx my na nf ng
    ni np om pa pe pg ph pk pr py qa sa sb sg sl sv tj tr tw ua uy vc vn
""")
GOOGLE_DOMAINS: tuple[str, ...] = (
    *(f"google.{t}" for t in _GOOGLE_TLDS),
    *(f"google.co.{c}" for c in _GOOGLE_CO),
    *(f"google.com.{c}" for c in _GOOGLE_COM),
)


def _with_www(domains: Iterable[str]) -> frozenset[str]:
    return frozenset(h for d in domains for h in (d, f"www.{d}"))


GOOGLE = Provider(
    "google",
    _with_www(GOOGLE_DOMAINS),
    "safesearch",
    {"strict": "forcesafesearch.google.com"},
    UrlRule(("/search", "/images", "/webhp", "/complete/search"), "safe", "active"),
    terms=(("/search", "q"), ("/complete/search", "q")),
    sample="/search?q=test",
    why="Google documents a CNAME to forcesafesearch.google.com for www.google.com and each country domain;"
    " the bare domains redirect to www and are covered too.",
)
BING = Provider(
    "bing",
    frozenset({"bing.com", "www.bing.com"}),
    "safesearch",
    {"strict": "strict.bing.com"},
    UrlRule(("/search", "/images/search", "/videos/search", "/AS/Suggestions"), "adlt", "strict"),
    terms=(("/search", "q"), ("/images/search", "q"), ("/videos/search", "q")),
    sample="/search?q=test",
    why="Microsoft documents a CNAME from www.bing.com to strict.bing.com; bing.com redirects there.",
)
DUCKDUCKGO = Provider(
    "duckduckgo",
    frozenset(
        {"duckduckgo.com", "www.duckduckgo.com", "start.duckduckgo.com", "html.duckduckgo.com", "lite.duckduckgo.com"}
    ),
    "safesearch",
    {"strict": "safe.duckduckgo.com"},
    UrlRule(("/", "/html", "/lite", "/d.js", "/i.js", "/v.js"), "kp", "1"),
    terms=(("/", "q"), ("/html", "q"), ("/lite", "q")),
    sample="/?q=test",
    why="DuckDuckGo documents a CNAME to safe.duckduckgo.com; its start page and no-JavaScript front-ends"
    " (html., lite.) take kp=-2 like the main site, so they are enforced too rather than left as a way round.",
)
YOUTUBE = Provider(
    "youtube",
    frozenset(
        {
            "www.youtube.com",
            "m.youtube.com",
            "youtubei.googleapis.com",
            "youtube.googleapis.com",
            "www.youtube-nocookie.com",
            "youtube.com",
            "music.youtube.com",
        }
    ),
    "youtube",
    {"strict": "restrict.youtube.com", "moderate": "restrictmoderate.youtube.com"},
    header="YouTube-Restrict",
    terms=(("/results", "search_query"),),
    sample="/results?search_query=test",
    why="Google documents the first five hosts for restricted mode by DNS or by the YouTube-Restrict header;"
    " youtube.com redirects to www and music.youtube.com calls the same youtubei API (the proxy already"
    " restricted both).",
)

PROVIDERS: tuple[Provider, ...] = (GOOGLE, BING, DUCKDUCKGO, YOUTUBE)


def _index(providers: Iterable[Provider]) -> dict[str, Provider]:
    """Host -> provider; a host in two providers or an enforcing host listed as a covered one is a bug."""
    found: dict[str, Provider] = {}
    targets: set[str] = set()
    for provider in providers:
        targets.update(provider.cname.values())
        for host in provider.hosts:
            if host != host.lower().strip(".") or host in found:
                raise ValueError(f"safesearch table: {host!r} is not a lower-case host listed once")
            found[host] = provider
    if looping := targets & found.keys():
        raise ValueError(f"safesearch table: enforcing hosts {sorted(looping)} must not be covered hosts")
    return found


_BY_HOST = _index(PROVIDERS)


def provider_of(host: str) -> Provider | None:
    """The provider covering exactly this (normalised, lower-case) host, or None."""
    return _BY_HOST.get(host)


def mode_for(provider: Provider, group: GroupSettings) -> Mode | None:
    """The mode this group gets on this provider, or None when the group has it off."""
    if provider.setting == "youtube":
        mode = group.youtube
        return "strict" if mode == "strict" else "moderate" if mode == "moderate" else None
    return "strict" if group.safesearch else None


def enforcement(host: str, group: GroupSettings) -> Enforcement | None:
    """What ``group`` gets on ``host``: None when the host is no provider's or the group has it off."""
    provider = _BY_HOST.get(host)
    if provider is None:
        return None
    mode = mode_for(provider, group)
    return None if mode is None else Enforcement(provider, mode)


def hosts() -> list[tuple[str, Provider]]:
    """Every covered host with its provider, sorted (the agreement test and the docs walk this)."""
    return sorted(_BY_HOST.items())
