"""Bounded decompression: never more than the limit, whatever the encoding; bombs stay small."""

from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
import zstandard

from filterproxy.content.inflate import Inflater, inflate

TEXT = b"<p>hello world</p>" * 2000
ENCODED = {
    "": TEXT,
    "identity": TEXT,
    "gzip": gzip.compress(TEXT),
    "deflate": zlib.compress(TEXT),
    "br": brotli.compress(TEXT),
    "zstd": zstandard.ZstdCompressor().compress(TEXT),
}


@pytest.mark.parametrize("encoding", sorted(ENCODED))
def test_every_encoding_decodes_up_to_the_limit(encoding: str) -> None:
    assert inflate(ENCODED[encoding], encoding, 10**6) == TEXT
    assert inflate(ENCODED[encoding], encoding, 1000) == TEXT[:1000]


def test_raw_deflate_and_chunked_feeding() -> None:
    raw = zlib.compressobj(wbits=-15)
    data = raw.compress(TEXT) + raw.flush()
    inflater = Inflater("deflate", 5000)
    for start in range(0, len(data), 100):
        inflater.feed(data[start : start + 100])
    assert bytes(inflater.out) == TEXT[:5000] and inflater.full


def test_a_bomb_is_cut_at_the_limit() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)
    assert len(inflate(bomb, "gzip", 65536) or b"") == 65536


def test_unknown_encodings_and_garbage() -> None:
    assert inflate(b"x", "gzip, br", 100) is None
    broken = Inflater("gzip", 100)
    broken.feed(b"not gzip at all")
    assert broken.failed and not broken.out
