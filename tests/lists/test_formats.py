"""List parsers: inline tables per format, the real shared lists, and arbitrary bytes."""

from __future__ import annotations

import gzip
import re
import tarfile
from pathlib import Path

import pytest

from filterproxy.classify.normalise import normalise_name
from filterproxy.errors import ListError, ListFormatError
from filterproxy.lists.formats import BadLine, Entry, detect_format, locate_entry, parse_file, parse_source
from filterproxy.lists.settings import ListFormat, SourceSettings
from filterproxy.model import Category
from tests.lists.tarballs import tar_bytes


def parse_text(tmp_path: Path, text: str, fmt: ListFormat, name: str = "list.txt") -> list[Entry | BadLine]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return list(parse_file(path, fmt))


def entries(items: list[Entry | BadLine]) -> list[tuple[str, str, int]]:
    return [(i.kind, i.value, i.line) for i in items if isinstance(i, Entry)]


def bad(items: list[Entry | BadLine]) -> list[tuple[int, bool]]:
    return [(i.line, i.unsupported) for i in items if isinstance(i, BadLine)]


# (line, expected entries as (kind, value)) for one-line plain lists; [] with a bad line when None.
PLAIN = [
    ("example.org", [("domain", "example.org")]),
    ("Example.ORG", [("domain", "example.org")]),
    ("example.org.", [("domain", "example.org")]),
    ("  example.org  ", [("domain", "example.org")]),
    ("example.org\r", [("domain", "example.org")]),
    ("*.example.org", [("domain", "example.org")]),
    (".example.org", [("domain", "example.org")]),
    ("example.org # a trailing comment", [("domain", "example.org")]),
    ("example.org#tight", [("domain", "example.org")]),
    ("bücher.de", [("domain", "xn--bcher-kva.de")]),
    ("BÜCHER.de.", [("domain", "xn--bcher-kva.de")]),
    ("xn--bcher-kva.de", [("domain", "xn--bcher-kva.de")]),
    ("_dmarc.example.org", [("domain", "_dmarc.example.org")]),
    ("-edge.blogspot.com", [("domain", "-edge.blogspot.com")]),
    ("1.2.3.4", [("ip", "1.2.3.4")]),
    ("10.1.2.3/8", [("ip", "10.0.0.0/8")]),
    ("2001:DB8::1", [("ip", "2001:db8::1")]),
    ("0.0.0.0 hosts.example", [("domain", "hosts.example")]),
    ("# only a comment", []),
    ("", []),
    ("com", None),
    ("localhost", None),
    ("a..b.example", None),
    ("a.*.example", None),
    ("example.org/path", None),
    ("1.2.3", None),
    ("a" * 64 + ".example", None),
    (("a" * 60 + ".") * 5 + "example", None),
    ("exa mple.org", None),
    ("ex!ample.org", None),
]


@pytest.mark.parametrize(("line", "expected"), PLAIN)
def test_plain_lines(tmp_path: Path, line: str, expected: list[tuple[str, str]] | None) -> None:
    items = parse_text(tmp_path, f"# header\n{line}\n", "plain")
    if expected is None:
        assert entries(items) == [] and bad(items) == [(2, False)]
    else:
        assert entries(items) == [(kind, value, 2) for kind, value in expected] and bad(items) == []


HOSTS = [
    ("0.0.0.0 a.example", [("domain", "a.example")]),
    ("127.0.0.1\ta.example", [("domain", "a.example")]),
    ("0.0.0.0   A.Example.  # comment", [("domain", "a.example")]),
    (":: a.example", [("domain", "a.example")]),
    ("::1 a.example b.example", [("domain", "a.example"), ("domain", "b.example")]),
    ("0.0.0.0 a.example b.example c.example", [("domain", n) for n in ("a.example", "b.example", "c.example")]),
    ("192.0.2.7 a.example", [("domain", "a.example")]),
    ("0.0.0.0 198.51.100.1", [("ip", "198.51.100.1")]),
    ("127.0.0.1 localhost", []),
    ("127.0.0.1 localhost.localdomain", []),
    ("255.255.255.255 broadcasthost", []),
    ("::1 localhost ip6-localhost ip6-loopback", []),
    ("0.0.0.0 0.0.0.0", []),
    ("127.0.0.1 local", []),
    ("fe80::1%lo0 localhost", []),
    ("bare.example", [("domain", "bare.example")]),
]


@pytest.mark.parametrize(("line", "expected"), HOSTS)
def test_hosts_lines(tmp_path: Path, line: str, expected: list[tuple[str, str]]) -> None:
    items = parse_text(tmp_path, f"{line}\n", "hosts")
    assert entries(items) == [(kind, value, 1) for kind, value in expected]
    assert bad(items) == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("0.0.0.0 xxxhindi.example en", "'en': single-label name"),
        ("not-an-ip a.example", "hosts line must start with an IP address"),
        ("0.0.0.0 bad..example", "'bad..example': empty label"),
    ],
)
def test_hosts_bad_lines_say_why(tmp_path: Path, line: str, reason: str) -> None:
    items = parse_text(tmp_path, f"# c\n\n{line}\n", "hosts", name="h.hosts")
    [bad_line] = [i for i in items if isinstance(i, BadLine)]
    assert str(bad_line).startswith(f"{tmp_path / 'h.hosts'}:3: {reason}")
    assert bad_line.text == line and not bad_line.unsupported


ADBLOCK = [
    ("||ads.example^", [("domain", "ads.example")], []),
    ("||ADS.Example^|", [("domain", "ads.example")], []),
    ("||*.ads.example^", [("domain", "ads.example")], []),
    ("@@||ok.example^", [("allow", "ok.example")], []),
    ("||x.example^$important", [("domain", "x.example")], []),
    ("||x.example^$third-party,important", [("domain", "x.example")], []),
    ("||x.example^$domain=a.example", [], [True]),
    ("||x.example^$dnstype=AAAA", [], [True]),
    ("example.org##.banner", [], [True]),
    ("##.banner", [], [True]),
    ("example.org#@#.banner", [], [True]),
    ("/banner[0-9]+/", [], [True]),
    ("|https://x.example/ad", [], [True]),
    ("||x.example/ads/", [], [True]),
    ("||x.example", [], [True]),
    ("plain.example", [], [True]),
    ("||com^", [], [False]),
    ("||bad..example^", [], [False]),
    ("! comment", [], []),
    ("# comment", [], []),
    ("[Adblock Plus 2.0]", [], []),
]


@pytest.mark.parametrize(("line", "expected", "bad_kinds"), ADBLOCK)
def test_adblock_lines(tmp_path: Path, line: str, expected: list[tuple[str, str]], bad_kinds: list[bool]) -> None:
    items = parse_text(tmp_path, f"{line}\n", "adblock")
    assert entries(items) == [(kind, value, 1) for kind, value in expected]
    assert [unsupported for _, unsupported in bad(items)] == bad_kinds


URLS = [
    ("example.org/bad/page.html", ("url", "example.org/bad/page.html")),
    ("example.org/bad/", ("url", "example.org/bad")),
    ("www.Example.org/Bad/", ("url", "example.org/Bad")),
    ("www.org/x", ("url", "www.org/x")),
    ("http://example.org:8080/bad#frag", ("url", "example.org/bad")),
    ("HTTPS://user@example.org/bad", ("url", "example.org/bad")),
    ("example.org/", ("domain", "example.org")),
    ("example.org/.", ("domain", "example.org")),
    ("example.org", ("domain", "example.org")),
    ("192.0.2.1/x", ("url", "192.0.2.1/x")),
    ("[2001:db8::1]/x", ("url", "2001:db8::1/x")),
    ("bücher.de/x", ("url", "xn--bcher-kva.de/x")),
]


@pytest.mark.parametrize(("line", "expected"), URLS)
def test_url_lines(tmp_path: Path, line: str, expected: tuple[str, str]) -> None:
    items = parse_text(tmp_path, f"{line}\n", "urls")
    assert entries(items) == [(*expected, 1)]


@pytest.mark.parametrize("line", ["bad host/x", "bad..host/x", "com/x", "/just/a/path", "[::1/x", "[]/x"])
def test_bad_url_lines(tmp_path: Path, line: str) -> None:
    assert bad(parse_text(tmp_path, f"{line}\n", "urls")) == [(1, False)]


RPZ_ZONE = """\
$TTL 300
$ORIGIN rpz.example.
@ IN SOA ns.rpz.example. admin.rpz.example. (
        2024010101 ; serial
        3600 600 86400 300 )
  IN NS ns.rpz.example.
bad.example CNAME .                 ; NXDOMAIN
*.bad.example CNAME .
nodata.example 60 IN CNAME *.
drop.example CNAME rpz-drop.
ok.example CNAME rpz-passthru.
abs.example.rpz.example. CNAME .
outside.example. CNAME .
walled.example CNAME garden.school.example.
local.example A 192.0.2.1
24.0.2.0.192.rpz-ip CNAME .
32.1.2.0.192.rpz-ip CNAME .
ns.bad.example.rpz-nsdname CNAME .
Upper.EXAMPLE CNAME .
$INCLUDE other.zone
"""


def test_rpz_zone(tmp_path: Path) -> None:
    items = parse_text(tmp_path, RPZ_ZONE, "rpz", name="school.rpz")
    assert entries(items) == [
        ("domain", "bad.example", 7),
        ("domain", "bad.example", 8),
        ("domain", "nodata.example", 9),
        ("domain", "drop.example", 10),
        ("allow", "ok.example", 11),
        ("domain", "abs.example", 12),
        ("ip", "192.0.2.0/24", 16),
        ("ip", "192.0.2.1", 17),
        ("domain", "upper.example", 19),
    ]
    # outside the origin is malformed; local data, nsdname and $INCLUDE are unsupported
    assert bad(items) == [(13, False), (14, True), (15, True), (18, True), (20, True)]


def test_rpz_without_origin_takes_names_as_written(tmp_path: Path) -> None:
    items = parse_text(tmp_path, "bad.example. CNAME .\n*.wild.example CNAME .\n", "rpz")
    assert entries(items) == [("domain", "bad.example", 1), ("domain", "wild.example", 2)]


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("list.txt", ["# c", "example.org", "a.example"], "plain"),
        ("list.txt", ["0.0.0.0 a.example", "0.0.0.0 b.example"], "hosts"),
        ("list.txt", ["! Title: x", "||a.example^", "||b.example^"], "adblock"),
        ("list.txt", ["[Adblock Plus 2.0]", "||a.example^"], "adblock"),
        ("list.txt", ["##.ad", "example.org##.banner", "example.net#@#.x", "||a.example^"], "adblock"),
        ("list.txt", ["$TTL 300", "a.example CNAME ."], "rpz"),
        ("list.txt", ["a.example/x", "b.example/y"], "urls"),
        ("school.rpz", [], "rpz"),
        ("db.zone.gz", [], "rpz"),
        ("urls", ["a.example"], "urls"),
        ("gambling.urls.gz", [], "urls"),
        ("gambling.domains.gz", ["1.2.3.4", "a.example"], "plain"),
        ("list.txt", [], "plain"),
        ("gambling.tar.gz", [], "ut1"),
    ],
)
def test_detect_format(tmp_path: Path, name: str, head: list[str], expected: str) -> None:
    assert detect_format(tmp_path / name, head) == expected


def test_detect_format_of_a_directory_is_ut1(tmp_path: Path) -> None:
    assert detect_format(tmp_path, []) == "ut1"


def test_gzip_by_magic_bytes_not_name(tmp_path: Path) -> None:
    text = "# c\nA.example\n0.0.0.0 b.example\n"
    plain = tmp_path / "plain.txt"
    plain.write_text(text)
    packed = tmp_path / "packed.txt"  # no .gz suffix on purpose
    packed.write_bytes(gzip.compress(text.encode()))
    assert list(parse_file(packed)) == list(parse_file(plain))
    assert entries(list(parse_file(packed))) == [("domain", "a.example", 2), ("domain", "b.example", 3)]


def test_bom_crlf_and_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "l.txt"
    path.write_bytes(b"\xef\xbb\xbfa.example\r\nb\xff.example\r\nc.example")
    items = list(parse_file(path, "plain"))
    assert entries(items) == [("domain", "a.example", 1), ("domain", "c.example", 3)]
    assert bad(items) == [(2, False)]


def test_truncated_gzip_is_an_error_not_a_shorter_list(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(b"host%d.example\n" % i for i in range(20000)))
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ListFormatError, match=re.escape("cut.txt.gz: corrupt or truncated gzip")):
        list(parse_file(path))


def test_missing_file_is_a_list_error(tmp_path: Path) -> None:
    items = parse_file(tmp_path / "nope.txt", "plain")  # lazy: the error comes while iterating
    with pytest.raises(ListError, match=re.escape("nope.txt: cannot read list file")):
        next(items)


def test_bad_line_uses_the_given_name(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("ok.example\n\nno_dots\n")
    [bad_line] = [i for i in parse_file(path, name="school/deny") if isinstance(i, BadLine)]
    assert str(bad_line) == "school/deny:3: single-label name (would block a whole top-level domain)"


# --- UT1: directories, tarballs and flat files ---------------------------------------------------------


def _ut1_files() -> dict[str, str]:
    return {
        "gambling/domains": "bet.example\nCasino.Example\n192.0.2.9\n",
        "gambling/urls": "www.news.example/betting/\nnews.example/odds\n",
        "gambling/usage": "black\n",
        "adult/domains": "adult.example\n",
    }


def _make_tar(path: Path, files: dict[str, str], prefix: str = "") -> None:
    path.write_bytes(tar_bytes({prefix + name: text for name, text in files.items()}))


def _write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


GAMBLING = [
    ("domain", "bet.example", 1),
    ("domain", "casino.example", 2),
    ("ip", "192.0.2.9", 3),
    ("url", "news.example/betting", 1),
    ("url", "news.example/odds", 2),
]


def _source(path: Path, ut1_category: str | None = "gambling") -> SourceSettings:
    return SourceSettings(id="t", category=Category.GAMBLING, path=path, format="ut1", ut1_category=ut1_category)


@pytest.mark.parametrize("prefix", ["", "blacklists/"])
def test_ut1_directory(tmp_path: Path, prefix: str) -> None:
    _write_tree(tmp_path / prefix, _ut1_files())
    assert entries(list(parse_source(_source(tmp_path)))) == GAMBLING
    assert entries(list(parse_source(_source(tmp_path / prefix / "gambling", None)))) == GAMBLING


@pytest.mark.parametrize("prefix", ["", "blacklists/", "./"])
def test_ut1_tarball(tmp_path: Path, prefix: str) -> None:
    tarball = tmp_path / "ut1.tar.gz"
    _make_tar(tarball, _ut1_files(), prefix)
    items = list(parse_source(_source(tarball)))
    assert entries(items) == GAMBLING
    bad_items = list(parse_source(_source(tarball, "adult")))
    assert entries(bad_items) == [("domain", "adult.example", 1)]


def test_ut1_tarball_with_one_category_needs_no_name(tmp_path: Path) -> None:
    tarball = tmp_path / "gambling.tar.gz"
    _make_tar(tarball, {k: v for k, v in _ut1_files().items() if k.startswith("gambling/")})
    assert entries(list(parse_file(tarball))) == GAMBLING


def test_ut1_tarball_bad_lines_name_the_member(tmp_path: Path) -> None:
    tarball = tmp_path / "g.tar.gz"
    _make_tar(tarball, {"gambling/domains": "ok.example\nbad..example\n"})
    [bad_line] = [i for i in parse_file(tarball) if isinstance(i, BadLine)]
    assert str(bad_line) == f"{tarball}!gambling/domains:2: empty label"


@pytest.mark.parametrize(
    ("files", "category", "message"),
    [
        ({"gambling/domains": "a.example\n", "adult/domains": "b.example\n"}, None, "holds 2 UT1 categories"),
        ({"gambling/domains": "a.example\n"}, "drugs", "no UT1 category 'drugs'"),
    ],
)
def test_ut1_tarball_category_errors(tmp_path: Path, files: dict[str, str], category: str | None,
                                     message: str) -> None:  # fmt: skip
    tarball = tmp_path / "t.tar.gz"
    _make_tar(tarball, files)
    with pytest.raises(ListError, match=message):
        list(parse_source(_source(tarball, category)))


def test_ut1_garbage_tarball_is_a_format_error(tmp_path: Path) -> None:
    tarball = tmp_path / "t.tar.gz"
    tarball.write_bytes(gzip.compress(b"this is not a tar archive" * 100))
    with pytest.raises(ListFormatError, match="not a readable tar archive"):
        list(parse_source(_source(tarball)))


def test_ut1_flat_files(tmp_path: Path) -> None:
    (tmp_path / "gambling.domains.gz").write_bytes(gzip.compress(_ut1_files()["gambling/domains"].encode()))
    (tmp_path / "gambling.urls").write_text(_ut1_files()["gambling/urls"])
    assert entries(list(parse_source(_source(tmp_path)))) == GAMBLING


def test_ut1_missing_category_directory(tmp_path: Path) -> None:
    with pytest.raises(ListError, match="no UT1 'domains' or 'urls' file for category 'gambling'"):
        list(parse_source(_source(tmp_path)))


def test_parse_source_explicit_formats(tmp_path: Path) -> None:
    path = tmp_path / "school.txt"
    path.write_text("||a.example^\n")
    adblock = SourceSettings(id="s", category=Category.SOCIAL, path=path, format="adblock")
    assert entries(list(parse_source(adblock))) == [("domain", "a.example", 1)]
    as_plain = SourceSettings(id="s", category=Category.SOCIAL, path=path, format="plain")
    assert bad(list(parse_source(as_plain))) == [(1, False)]


def test_domain_values_are_canonical(tmp_path: Path) -> None:
    text = "\n".join(["A.B.example.", "*.Ünïcode.example", "xn--bcher-kva.de", "0.0.0.0 X.example"])
    for item in parse_text(tmp_path, text, "plain"):
        assert isinstance(item, Entry)
        assert normalise_name(item.value) == item.value


def test_ut1_tarball_with_a_dangling_link_is_a_format_error(tmp_path: Path) -> None:
    tarball = tmp_path / "t.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        info = tarfile.TarInfo("gambling/domains")
        info.type = tarfile.SYMTYPE
        info.linkname = "../elsewhere/domains"
        tar.addfile(info)
    with pytest.raises(ListFormatError, match="not a readable tar archive"):
        list(parse_source(_source(tarball)))


def test_ut1_directory_of_many_categories_needs_a_name(tmp_path: Path) -> None:
    _write_tree(tmp_path, _ut1_files())
    with pytest.raises(ListError, match="set ut1_category"):
        list(parse_source(_source(tmp_path, None)))


def test_locate_entry_names_the_file_and_line(tmp_path: Path) -> None:
    plain = tmp_path / "s.txt"
    plain.write_text("# c\na.example\n0.0.0.0 b.example c.example\n")
    source = SourceSettings(id="s", category=Category.SOCIAL, path=plain)
    assert locate_entry(source, "c.example") == (str(plain), 3)
    assert locate_entry(source, "nope.example") is None


@pytest.mark.parametrize("packed", [False, True])
def test_locate_entry_in_ut1_sources(tmp_path: Path, packed: bool) -> None:
    if packed:
        path = tmp_path / "ut1.tar.gz"
        _make_tar(path, _ut1_files())
        domains, urls = f"{path}!gambling/domains", f"{path}!gambling/urls"
    else:
        path = tmp_path / "ut1"
        _write_tree(path, _ut1_files())
        domains, urls = str(path / "gambling" / "domains"), str(path / "gambling" / "urls")
    assert locate_entry(_source(path), "casino.example") == (domains, 2)
    assert locate_entry(_source(path), "news.example/odds") == (urls, 2)
    assert locate_entry(_source(path), "news.example/BETTING") == (urls, 1)


def test_ut1_tarball_with_a_corrupt_member_is_a_format_error(tmp_path: Path) -> None:
    data = gzip.compress(b"".join(b"h%d.example\n" % i for i in range(5000)))
    tarball = tmp_path / "t.tar"
    tarball.write_bytes(tar_bytes({"gambling/domains": data[: len(data) // 2]}, "w"))
    with pytest.raises(ListFormatError, match="corrupt or truncated gzip"):
        list(parse_source(_source(tarball)))
