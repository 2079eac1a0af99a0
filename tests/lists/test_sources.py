"""Loading blocklists/sources.yaml, and the shipped sources file and starter lists themselves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from filterproxy.errors import ConfigError
from filterproxy.lists.formats import BadLine, Entry, parse_source
from filterproxy.lists.sources import load_sources
from filterproxy.model import Category

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "blocklists" / "sources.yaml"
STARTER_CATEGORIES = [c for c in Category if c is not Category.ILLEGAL]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "sources.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, """\
sources:
  - {id: a, category: gambling, path: lists/a.txt}
  - {id: b, category: social, path: /abs/b.txt, format: hosts, enabled: false, max_bad_share: 0.5}
""")  # fmt: skip
    a, b = load_sources(path)
    assert (a.id, a.category, a.path, a.format, a.enabled) == (
        "a",
        Category.GAMBLING,
        tmp_path / "conf" / "lists" / "a.txt",
        "auto",
        True,
    )
    assert (b.path, b.format, b.enabled, b.max_bad_share) == (Path("/abs/b.txt"), "hosts", False, 0.5)


@pytest.mark.parametrize("text", ["", "sources:\n", "sources: []\n"])
def test_empty_files_have_no_sources(tmp_path: Path, text: str) -> None:
    assert load_sources(write(tmp_path, text)) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: [\n", r"sources.yaml:\d+:\d+: not valid YAML"),
        ("- a\n", "expected a mapping with only a 'sources:' list, got list"),
        ("sources: []\nextra: 1\n", "got extra, sources"),
        ("sources: {id: a}\n", "'sources' must be a list, got dict"),
        ("sources:\n  - just-a-string\n", r"sources\[0\]: expected a mapping, got str"),
        ("sources:\n  - {id: a, category: nope, path: a.txt}\n", r"sources\[0\] \(a\): category: Input should be"),
        ("sources:\n  - {id: a, category: adult}\n", r"sources\[0\] \(a\): path: Field required"),
        ("sources:\n  - {id: a, category: adult, path: a, colour: red}\n", r"sources\[0\] \(a\): colour: Extra"),
        ("sources:\n  - {category: adult, path: a}\n", r"sources\[0\] \(no id\): id: Field required"),
        ("sources:\n  - {id: a, category: adult, path: a, format: csv}\n", r"\(a\): format: Input should be"),
        ("sources:\n  - {id: a, category: adult, path: a, max_bad_share: 2}\n", r"\(a\): max_bad_share"),
        (
            "sources:\n  - {id: a, category: adult, path: a}\n  - {id: a, category: hate, path: b}\n",
            r"sources\[1\] \(a\): duplicate id, also used by sources\[0\]",
        ),
    ],
)
def test_errors_name_file_entry_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_sources(path)
    assert str(path) in str(caught.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"{tmp_path / 'missing.yaml'}: cannot read sources file")):
        load_sources(tmp_path / "missing.yaml")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_bytes(b"sources: [\xff]\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_sources(path)


# --- The shipped blocklists/ tree ---------------------------------------------------------------------


def test_shipped_sources_load() -> None:
    sources = load_sources(SHIPPED)
    assert len({s.id for s in sources}) == len(sources)
    starter = [s for s in sources if s.enabled and s.url is None]
    assert {s.category for s in starter} == set(STARTER_CATEGORIES)
    assert all(s.path.is_file() for s in starter), "the starter lists work offline"


def test_shipped_remote_sources_are_licensed_and_recommended_ones_enabled() -> None:
    remote = [s for s in load_sources(SHIPPED) if s.url]
    assert len(remote) >= 20
    for source in remote:
        assert source.url is not None and source.url.startswith("https://"), source.id
        assert source.licence and source.attribution, source.id
        assert source.path.is_relative_to(REPO / "blocklists" / "downloads"), source.id
        if source.licence.startswith("CC-BY"):
            assert "Université Toulouse 1 Capitole" in source.attribution
    ut1 = [s for s in remote if s.id.startswith("ut1/")]
    assert all(s.format == "ut1" and s.ut1_category and s.path.name == f"{s.ut1_category}.tar.gz" for s in ut1)
    enabled = {s.category for s in remote if s.enabled}
    # every category a public list exists for is covered by default; selfharm/extremism only by providers
    assert enabled == set(STARTER_CATEGORIES) - {Category.SELFHARM, Category.EXTREMISM}
    assert all(s.enabled for s in ut1)
    attribution = (REPO / "blocklists" / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for prefix in {s.id.split("/")[0] for s in remote if s.enabled}:
        assert f"`{prefix}" in attribution, f"{prefix} is enabled but not attributed"


@pytest.mark.parametrize("category", STARTER_CATEGORIES, ids=str)
def test_starter_list(category: Category) -> None:
    [source] = [s for s in load_sources(SHIPPED) if s.id == f"starter/{category.value}"]
    items = list(parse_source(source))
    assert [i for i in items if isinstance(i, BadLine)] == []
    names = [i.value for i in items if isinstance(i, Entry) and i.kind == "domain"]
    assert f"{category.value}.filterproxy-selftest.example" in names
    assert len(names) == len(set(names)), "no duplicates"
    assert 3 <= len(names) <= 400, "small, hand-picked"


@pytest.mark.parametrize(
    ("category", "names"),
    [
        (Category.SOCIAL, ["facebook.com", "instagram.com", "tiktok.com", "snapchat.com", "x.com", "twitter.com"]),
        (Category.CIRCUMVENTION, ["dns.google", "cloudflare-dns.com", "mozilla.cloudflare-dns.com",
                                  "doh.opendns.com", "nordvpn.com"]),
        (Category.GAMBLING, ["bet365.com", "williamhill.com"]),
        (Category.ADULT, ["pornhub.com"]),
    ],
)  # fmt: skip
def test_starter_lists_hold_the_well_known_names(category: Category, names: list[str]) -> None:
    [source] = [s for s in load_sources(SHIPPED) if s.id == f"starter/{category.value}"]
    listed = {i.value for i in parse_source(source) if isinstance(i, Entry)}
    assert set(names) <= listed


def test_no_starter_list_for_illegal_and_no_selftest_name_in_two_lists() -> None:
    starter = REPO / "blocklists" / "starter"
    assert not (starter / "illegal.txt").exists()
    seen: dict[str, str] = {}
    for path in sorted(starter.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            name = line.split("#", 1)[0].strip()
            if name:
                assert name not in seen, f"{name} in {path.name} and {seen[name]}"
                seen[name] = path.name


def test_local_lists_exist_with_a_comment_header() -> None:
    allow = REPO / "blocklists" / "local" / "allow.txt"
    lines = allow.read_text(encoding="utf-8").splitlines()
    assert lines and all(line.startswith("#") for line in lines)
