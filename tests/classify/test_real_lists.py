"""Classification over the real public lists in ../shared/data/blocklists (UT1, blocklistproject, ...)."""

from __future__ import annotations

import gzip
import ipaddress
from datetime import UTC, datetime
from pathlib import Path

import pytest

from filterproxy.classify.classifier import Classifier, LocalLists
from filterproxy.classify.index import Index
from filterproxy.classify.policy import Policy
from filterproxy.classify.settings import PolicySettings
from filterproxy.lists.build import build_index
from filterproxy.lists.settings import SourceSettings
from filterproxy.lists.store import read_index, write_index
from filterproxy.lists.suffixes import bundled_suffixes
from filterproxy.model import Action, Category, Query, Reason
from tests import shared_lists

pytestmark = pytest.mark.skipif(not shared_lists.available(), reason="../shared/data/blocklists not present")
CLIENT = ipaddress.ip_address("10.0.0.1")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SUFFIXES = bundled_suffixes()


def _first_entries(rel: str, count: int = 3) -> list[str]:
    """The first real entries of a shared file (skipping comments and hosts prefixes)."""
    out = []
    with gzip.open(shared_lists.SHARED / rel, "rt", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            name = text.split()[-1]
            if "." in name and not name[0].isdigit() and name not in ("localhost", "0.0.0.0"):
                out.append(name)
            if len(out) == count:
                return out
    return out


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    built = build_index(shared_lists.policy_sources(), 0.2)
    path = tmp_path_factory.mktemp("idx") / "real.fpi"
    write_index(built, path)
    return read_index(path)  # the compiled, mapped form the service uses


def _classify(index: Index, host: str, path: str | None = None, local: LocalLists | None = None):  # type: ignore[no-untyped-def]
    classifier = Classifier(Policy(PolicySettings()), index, local, suffixes=SUFFIXES)
    return classifier.classify(Query(CLIENT, host, NOW, path))


@pytest.mark.parametrize(
    ("rel", "category"),
    [
        ("ut1/gambling.domains.gz", Category.GAMBLING),
        ("ut1/drogue.domains.gz", Category.DRUGS),
        ("blocklistproject/drugs.hosts.gz", Category.DRUGS),
        ("sinfonietta/porn.hosts.gz", Category.ADULT),
        ("shadowwhisperer/adult.domains.gz", Category.ADULT),
        ("hostsvn/gambling.domains.gz", Category.GAMBLING),
        ("hategroup-dnsbl/hate.domains.gz", Category.HATE),
        ("ut1/social_networks.domains.gz", Category.SOCIAL),
    ],
)
def test_real_entries_block_name_subdomain_case_and_trailing_dot(index: Index, rel: str, category: Category) -> None:
    for name in _first_entries(rel):
        for variant in (name, f"deep.sub.{name}", name.upper(), f"{name}."):
            verdict = _classify(index, variant)
            assert verdict.action is Action.BLOCK, (rel, variant, verdict)
            # the entry may be listed by a more serious category too; this one must be among them
            assert category in (verdict.category, *verdict.extra_categories), (rel, variant, verdict)


def test_ut1_url_entries_block_only_their_paths(index: Index) -> None:
    line = _first_entries("ut1/gambling.urls.gz", 1)[0]  # e.g. astrolabio.net/casino/
    host, _, path = line.partition("/")
    assert _classify(index, host, "/" + path + "page.html").category is Category.GAMBLING
    assert _classify(index, host, "/some-other-path").action is Action.ALLOW


def test_allow_beats_deny_on_real_lists(index: Index) -> None:
    name = _first_entries("ut1/gambling.domains.gz", 1)[0]
    verdict = _classify(index, f"www.{name}", local=LocalLists(allow=frozenset([name])))
    assert (verdict.action, verdict.reason) == (Action.ALLOW, Reason.LOCAL_ALLOW)


def test_illegal_beats_allow(tmp_path: Path, index: Index) -> None:
    feed = tmp_path / "iwf.txt"
    name = _first_entries("ut1/gambling.domains.gz", 1)[0]
    feed.write_text(f"{name}/abuse/\nonly-illegal.example\n")
    sources = [SourceSettings(id="provider/iwf", category=Category.ILLEGAL, path=feed, format="urls")]
    illegal = build_index(sources + shared_lists.policy_sources()[:3], 0.2)
    local = LocalLists(allow=frozenset([name, "only-illegal.example"]))
    assert _classify(illegal, name, "/abuse/1.jpg", local).reason is Reason.ILLEGAL
    assert _classify(illegal, "x.only-illegal.example", None, local).reason is Reason.ILLEGAL
    assert _classify(illegal, name, "/fine", local).reason is Reason.LOCAL_ALLOW


def test_idn_entries_are_matched_in_unicode_and_punycode(tmp_path: Path) -> None:
    path = tmp_path / "idn.txt"
    path.write_text("bücher-casino.example\n")
    index = build_index([SourceSettings(id="t", category=Category.GAMBLING, path=path, format="plain")], 0.0)
    assert _classify(index, "www.BÜCHER-casino.example").category is Category.GAMBLING
    assert _classify(index, "xn--bcher-casino-dlb.example").category is Category.GAMBLING


def test_every_source_reports_its_counts(index: Index) -> None:
    by_id = {s.id: s for s in index.sources}
    assert by_id["blocklistproject/drugs"].entries == 26029  # shared README: 26,029 entries
    assert by_id["hategroup-dnsbl/hate"].entries == 489
    assert all(s.entries > 0 for s in index.sources)


def test_no_two_real_names_share_a_key() -> None:
    """Regression: a Mersenne-modulus key made 1,174 pairs of real names collide (over-blocking)."""
    from filterproxy.classify.table import name_key
    from filterproxy.lists.formats import Entry, parse_source

    keys: dict[int, str] = {}
    for source in shared_lists.all_sources():
        for item in parse_source(source):
            if isinstance(item, Entry) and item.kind == "domain":
                other = keys.setdefault(name_key(item.value), item.value)
                assert other == item.value, f"{other} and {item.value} share a key"
    assert len(keys) > 1_000_000
