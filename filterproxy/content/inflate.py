"""Bounded, incremental decompression of a response body, for scoring its first bytes.

A page is scored on at most ``limit`` decoded bytes, however it is compressed, and a
decompression bomb cannot make the proxy allocate more: zlib is asked for at most what is
missing, brotli and zstd are fed in small slices and stop as soon as the limit is reached.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import brotli  # type: ignore[import-untyped]
import zstandard

_SLICE = 512  # bytes of compressed input per step for codecs without an output bound
ENCODINGS = ("", "identity", "gzip", "x-gzip", "deflate", "br", "zstd")


class Inflater:
    """Feed raw body chunks; ``out`` holds up to ``limit`` decoded bytes; ``full`` when it has them."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding.strip().lower()
        if self.encoding not in ENCODINGS:
            raise ValueError(f"unsupported content-encoding {encoding!r}")
        self.limit = limit
        self.out = bytearray()
        self.failed = False
        self._zlib: zlib._Decompress | None = None
        self._step: Callable[[bytes], bytes] | None = None
        if self.encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "br":
            self._step = brotli.Decompressor().process
        elif self.encoding == "zstd":
            self._step = zstandard.ZstdDecompressor().decompressobj().decompress

    @property
    def full(self) -> bool:
        return len(self.out) >= self.limit

    def feed(self, data: bytes) -> None:
        if self.full or self.failed or not data:
            return
        try:
            if self.encoding in ("", "identity"):
                self.out += data[: self.limit - len(self.out)]
            elif self.encoding == "deflate" and self._zlib is None:
                raw = not (len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] * 256 + data[1]) % 31 == 0)
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)
                self._inflate(data)
            elif self._zlib is not None:
                self._inflate(data)
            elif self._step is not None:
                for start in range(0, len(data), _SLICE):
                    self.out += self._step(data[start : start + _SLICE])
                    if self.full:
                        break
        except (zlib.error, brotli.error, zstandard.ZstdError, EOFError):
            self.failed = True
        del self.out[self.limit :]

    def _inflate(self, data: bytes) -> None:
        assert self._zlib is not None
        self.out += self._zlib.decompress(data, self.limit - len(self.out))


def inflate(raw: bytes, encoding: str, limit: int) -> bytes | None:
    """Up to ``limit`` decoded bytes of a whole body; None for an encoding this module does not know."""
    try:
        inflater = Inflater(encoding, limit)
    except ValueError:
        return None
    inflater.feed(raw)
    return bytes(inflater.out)
