"""The parsers over the real public lists in ../shared/data/blocklists (never copied into the repo).

The README there gives each file's "entries" (non-empty lines not starting with '#'); every such
line must come out as exactly one Entry or BadLine, apart from the documented exceptions below.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import pytest

from filterproxy.classify.normalise import normalise_name
from filterproxy.lists.formats import BadLine, Entry, parse_file, parse_source
from filterproxy.lists.settings import SourceSettings
from filterproxy.model import Category
from tests.shared_lists import SHARED

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared blocklists not found at {SHARED}")

# file -> (entries - README entries, bad lines, why)
EXCEPTIONS: dict[str, tuple[int, int, str]] = {
    "clefspeare13/porn.hosts.gz": (-6, 0, "6 localhost/broadcasthost self-lines yield nothing"),
    "developerdan/dating.hosts.gz": (-1, 1, "'0.0.0.0 dating' is a single-label name"),
    "sinfonietta/porn.hosts.gz": (0, 1, "'0.0.0.0 xxxhindi.to en': one entry and one bad name on a line"),
    "sinfonietta/social.hosts.gz": (-1, 1, "'127.0.0.1 snapchat-com' is a single-label name"),
}


def _readme_entries() -> dict[str, int]:
    if not SHARED.is_dir():
        return {}
    readme = (SHARED / "README.md").read_text(encoding="utf-8")
    rows = re.finditer(r"^\| `([^`]+)` \|.*?\| (\d+) \| (\d+) \|", readme, re.MULTILINE)
    return {m[1]: int(m[3]) for m in rows if m[1] != "ut1/global_usage.gz"}  # a description, not a list


def _count(items: Iterable[Entry | BadLine]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for item in items:
        if isinstance(item, Entry):
            counts[item.kind] += 1
        else:
            counts["unsupported" if item.unsupported else "bad"] += 1
    return counts


@pytest.mark.parametrize(("rel", "readme_entries"), sorted(_readme_entries().items()))
def test_every_listed_line_is_accounted_for(rel: str, readme_entries: int) -> None:
    counts = _count(parse_file(SHARED / rel))
    delta, bad_lines, _why = EXCEPTIONS.get(rel, (0, 0, ""))
    found = counts["domain"] + counts["ip"] + counts["url"]
    assert (found, counts["bad"], counts["allow"], counts["unsupported"]) == (readme_entries + delta, bad_lines, 0, 0)


def test_the_readme_table_was_read() -> None:
    assert len(_readme_entries()) >= 150


@lru_cache(maxsize=16)
def _values(rel: str, kind: str = "domain") -> frozenset[str]:
    return frozenset(i.value for i in parse_file(SHARED / rel) if isinstance(i, Entry) and i.kind == kind)


@pytest.mark.parametrize(
    ("rel", "kind", "value", "why"),
    [
        ("sinfonietta/porn.hosts.gz", "domain", "www.guruofporn.com", "written with a trailing dot"),
        ("sinfonietta/porn.hosts.gz", "domain", "ehentai.to", "written as Ehentai.to"),
        ("sinfonietta/porn.hosts.gz", "ip", "85.17.187.83", "an address in a hosts name column"),
        ("sinfonietta/snuff.hosts.gz", "domain", "bestgore.com", "127.0.0.1 sink"),
        ("hostsvn/gambling.domains.gz", "domain", "www.188betcn2.com", "written as www.188Betcn2.com"),
        ("shadowwhisperer/shock.domains.gz", "domain", "bestgore.com", "trailing '#Gore' comment"),
        ("blocklistproject/drugs.hosts.gz", "domain", "0830bbs.com", "hosts with a # header"),
        ("hategroup-dnsbl/hate.domains.gz", "domain", "stormfront.org", "plain with a # header"),
        ("ut1/agressif.domains.gz", "ip", "118.123.4.224", "UT1 IPv4 entries go to the IP list"),
        ("ut1/dynamic-dns.domains.gz", "domain", "afshin.ir", "written as .afshin.ir"),
        ("ut1/malware.urls.gz", "url", "004567.vip/archie/Pin.html", "UT1 host/path"),
        ("ut1/malware.urls.gz", "url", "0001-5cf.pages.dev/awards", "trailing slash removed"),
    ],
)
def test_known_entries(rel: str, kind: str, value: str, why: str) -> None:
    assert value in _values(rel, kind), why


def test_idn_punycode_entries_stay_canonical() -> None:
    names = [v for v in _values("blocklistproject/drugs.hosts.gz") if "xn--" in v]
    assert names
    assert all(normalise_name(n) == n for n in names)


def test_ip_entries_never_reach_the_domain_list() -> None:
    domains = _values("ut1/agressif.domains.gz")
    assert domains and not any(d.replace(".", "").isdigit() for d in domains)
    assert len(_values("ut1/agressif.domains.gz", "ip")) > 50


def test_bad_lines_carry_file_and_line() -> None:
    rel = "developerdan/dating.hosts.gz"
    [bad] = [i for i in parse_file(SHARED / rel) if isinstance(i, BadLine)]
    assert str(bad) == f"{SHARED / rel}:18555: 'dating': single-label name (would block a whole top-level domain)"
    assert bad.text == "0.0.0.0 dating"


def test_ut1_flat_directory_source_reads_domains_and_urls() -> None:
    source = SourceSettings(id="ut1/gambling", category=Category.GAMBLING, path=SHARED / "ut1",
                            format="ut1", ut1_category="gambling")  # fmt: skip
    counts = _count(parse_source(source))
    domains = _count(parse_file(SHARED / "ut1" / "gambling.domains.gz"))
    urls = _count(parse_file(SHARED / "ut1" / "gambling.urls.gz"))
    assert counts == domains + urls
    assert counts["url"] > 0 and counts["domain"] > 10000
