"""Property tests: whatever bytes a list file holds, the parsers only ever yield Entry or BadLine
(or raise a ListError for unreadable gzip/tar data), and every name they yield is canonical."""

from __future__ import annotations

import bz2
import gzip
import ipaddress
import lzma
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filterproxy.classify.normalise import normalise_name
from filterproxy.errors import ListError
from filterproxy.lists.formats import BadLine, Entry, parse_file
from filterproxy.lists.parsers.base import check_name, ip_text
from filterproxy.lists.settings import ListFormat
from tests.lists.tarballs import tar_bytes

FORMATS: list[ListFormat] = ["auto", "plain", "hosts", "adblock", "urls", "rpz"]

# Bytes that look like list lines often enough to reach every branch.
_TOKENS = st.sampled_from(
    [b"0.0.0.0 ", b"127.0.0.1\t", b"::1 ", b"||", b"@@", b"^", b"$important", b"##", b"#", b"!", b"*.", b".",
     b"example", b".org", b"xn--bcher-kva", "bücher".encode(), "ÄÖ".encode(), b"/path/", b"http://", b"CNAME ",
     b" . ", b"rpz-passthru.", b"$ORIGIN ", b"$TTL 60", b"(", b")", b";", b"\n", b"\r\n", b" ", b"\t", b"\x00",
     b"\xff", b"\xef\xbb\xbf", b"1.2.3.4", b"/24", b"localhost", b"-", b"_", b"com", b"@"]
)  # fmt: skip
LIST_BYTES = st.one_of(st.binary(max_size=400), st.lists(_TOKENS, max_size=60).map(b"".join))


def _parse(data: bytes, fmt: ListFormat) -> Iterator[Entry | BadLine]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.txt"
        path.write_bytes(data)
        try:
            yield from parse_file(path, fmt)
        except ListError:
            return  # a typed, explained refusal (e.g. truncated gzip) is not a crash


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=LIST_BYTES, packed=st.booleans())
def test_arbitrary_bytes_never_crash(fmt: ListFormat, data: bytes, packed: bool) -> None:
    lines = data.count(b"\n") + 1
    for item in _parse(gzip.compress(data) if packed else data, fmt):
        assert isinstance(item, Entry | BadLine)
        assert 1 <= item.line <= lines
        if isinstance(item, Entry) and item.kind in ("domain", "allow"):
            assert normalise_name(item.value) == item.value
            assert check_name(item.value) == item.value
        if isinstance(item, BadLine):
            assert str(item).startswith(f"{item.path}:{item.line}: ")


_LABEL = st.text(alphabet=st.sampled_from("abcXYZ019-_äöüßéçあ"), min_size=1, max_size=12)
NAMES = st.builds(
    lambda labels, star, dot: ("*." if star else "") + ".".join(labels) + ("." if dot else ""),
    st.lists(_LABEL, min_size=1, max_size=4),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(NAMES)
def test_check_name_is_idempotent_and_agrees_with_normalise(raw: str) -> None:
    try:
        name = check_name(raw)
    except ValueError:
        return
    assert check_name(name) == name
    assert normalise_name(name) == name
    assert not name.startswith("*") and "." in name


@settings(max_examples=200, deadline=None)
@given(NAMES)
def test_fast_and_slow_paths_agree(raw: str) -> None:
    """The inlined fast path of the plain parser and check_name give the same answer."""
    try:
        expected: list[tuple[str, str]] = [("domain", check_name(raw.strip()))]
    except ValueError:
        expected = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "l.txt"
        path.write_text(f"{raw}\n0.0.0.0 {raw}\n", encoding="utf-8")
        got = [(i.kind, i.value, i.line) for i in parse_file(path, "plain") if isinstance(i, Entry)]
    domains = [(k, v, line) for k, v, line in got if k == "domain"]  # numeric names become IP entries
    assert domains == [(k, v, line) for line in (1, 2) for k, v in expected]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 300).map(str) | st.sampled_from(["00", "01", "007", ""]), min_size=3, max_size=5))
def test_ip_fast_path_agrees_with_ipaddress(octets: list[str]) -> None:
    text = ".".join(octets)
    try:
        expected: str | None = str(ipaddress.ip_address(text))
    except ValueError:
        expected = None
    assert ip_text(text) == expected


_PACKERS = {"raw": lambda b: b, "gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=LIST_BYTES, packer=st.sampled_from(sorted(_PACKERS)), wrap=st.booleans(), cut=st.integers(0, 64))
def test_arbitrary_tarballs_never_crash(data: bytes, packer: str, wrap: bool, cut: int) -> None:
    """Random bytes as a tarball, or a real tarball of random bytes, compressed and maybe cut short."""
    blob = _PACKERS[packer](tar_bytes({"cat/domains": data}, "w") if wrap else data)
    blob = blob[: len(blob) - cut] if cut < len(blob) else blob
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.tar.gz"
        path.write_bytes(blob)
        try:
            items = list(parse_file(path, "ut1"))
        except ListError:
            return
    assert all(isinstance(item, Entry | BadLine) for item in items)
