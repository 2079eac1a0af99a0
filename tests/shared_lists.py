"""The real public lists in ../shared/data/blocklists, mapped onto filterproxy categories.

Used by integration tests and benchmarks; the lists are never copied into the project.
"""

from __future__ import annotations

from pathlib import Path

from filterproxy.lists.settings import ListFormat, SourceSettings
from filterproxy.model import Category

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "blocklists"

# file (relative to SHARED) -> category; the lists a school would choose for its policy.
CATALOG: dict[str, Category] = {
    "ut1/adult.urls.gz": Category.ADULT,
    "ut1/mixed_adult.domains.gz": Category.ADULT,
    "ut1/agressif.domains.gz": Category.VIOLENCE,
    "ut1/agressif.urls.gz": Category.VIOLENCE,
    "ut1/drogue.domains.gz": Category.DRUGS,
    "ut1/drogue.urls.gz": Category.DRUGS,
    "ut1/gambling.domains.gz": Category.GAMBLING,
    "ut1/gambling.urls.gz": Category.GAMBLING,
    "ut1/social_networks.domains.gz": Category.SOCIAL,
    "ut1/social_networks.urls.gz": Category.SOCIAL,
    "ut1/malware.domains.gz": Category.MALWARE,
    "ut1/phishing.domains.gz": Category.MALWARE,
    "ut1/vpn.domains.gz": Category.CIRCUMVENTION,
    "ut1/doh.domains.gz": Category.CIRCUMVENTION,
    "blocklistproject/drugs.hosts.gz": Category.DRUGS,
    "blocklistproject/gambling.hosts.gz": Category.GAMBLING,
    "blocklistproject/facebook.hosts.gz": Category.SOCIAL,
    "blocklistproject/tiktok.hosts.gz": Category.SOCIAL,
    "sinfonietta/porn.hosts.gz": Category.ADULT,
    "sinfonietta/gambling.hosts.gz": Category.GAMBLING,
    "sinfonietta/social.hosts.gz": Category.SOCIAL,
    "sinfonietta/snuff.hosts.gz": Category.VIOLENCE,
    "shadowwhisperer/adult.domains.gz": Category.ADULT,
    "shadowwhisperer/gambling.domains.gz": Category.GAMBLING,
    "shadowwhisperer/malware.domains.gz": Category.MALWARE,
    "shadowwhisperer/tunnels.domains.gz": Category.CIRCUMVENTION,
    "shadowwhisperer/shock.domains.gz": Category.VIOLENCE,
    "hostsvn/adult.domains.gz": Category.ADULT,
    "hostsvn/gambling.domains.gz": Category.GAMBLING,
    "hategroup-dnsbl/hate.domains.gz": Category.HATE,
    "developerdan/hate-and-junk.hosts.gz": Category.HATE,
    "hagezi/doh-vpn-proxy-bypass.domains.gz": Category.CIRCUMVENTION,
    "clefspeare13/porn.hosts.gz": Category.ADULT,
    "tiuxo/porn.hosts.gz": Category.ADULT,
    "tiuxo/social.hosts.gz": Category.SOCIAL,
    "chadmayfield/porn_top1m.domains.gz": Category.ADULT,
}


def available() -> bool:
    return SHARED.is_dir()


def _source(rel: str, category: Category) -> SourceSettings:
    fmt: ListFormat = "ut1" if rel.startswith("ut1/") else "auto"
    return SourceSettings(id=rel.rsplit(".", 1)[0].removesuffix(".domains").removesuffix(".hosts"),
                          category=category, path=SHARED / rel, format=fmt, max_bad_share=0.2)


def policy_sources() -> list[SourceSettings]:
    """The curated policy lists (CATALOG)."""
    return [_source(rel, cat) for rel, cat in CATALOG.items() if (SHARED / rel).exists()]


def all_sources() -> list[SourceSettings]:
    """Every data file in the shared tree; files outside CATALOG are spread over categories (bench only)."""
    spread = list(Category)
    out = []
    files = [p for p in sorted(SHARED.rglob("*.gz")) if p.name.count(".") >= 2]  # <list>.<format>.gz
    for number, path in enumerate(files):
        rel = str(path.relative_to(SHARED))
        out.append(_source(rel, CATALOG.get(rel, spread[number % len(spread)])))
    return out
