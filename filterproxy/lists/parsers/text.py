"""Opening list files as text lines: plain or gzip (by magic bytes, not by name), undecodable
bytes replaced (so they fail as names, with their line number), only ``\\n`` ends a line."""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TextIO, cast

from filterproxy.errors import ListError, ListFormatError

GZIP_MAGIC = b"\x1f\x8b"
_CORRUPT = (EOFError, zlib.error, gzip.BadGzipFile)


@contextmanager
def opened_lines(binary: IO[bytes], display: str) -> Iterator[TextIO]:
    """Decoded lines of a binary stream, gunzipped when it starts with the gzip magic.

    Corrupt or truncated gzip data raises :class:`ListFormatError` (also while iterating inside
    the ``with``): a list cut short must not pass as a shorter list.
    """
    raw = cast(io.RawIOBase, binary)
    buffered = binary if isinstance(binary, io.BufferedReader) else io.BufferedReader(raw)
    stream: IO[bytes] = buffered
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=buffered, mode="rb"))
    try:
        yield io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="\n")
    except _CORRUPT as exc:
        raise ListFormatError(f"{display}: corrupt or truncated gzip data ({exc})") from exc
    except OSError as exc:
        raise ListError(f"{display}: cannot read list file: {exc.strerror or exc}") from exc


@contextmanager
def opened_file(path: Path, display: str) -> Iterator[TextIO]:
    """The list file at ``path`` as text lines; an unreadable file raises :class:`ListError`."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ListError(f"{display}: cannot read list file: {exc.strerror or exc}") from exc
    with handle, opened_lines(handle, display) as lines:
        yield lines


def head_lines(path: Path, display: str, count: int = 64) -> list[str]:
    """The first ``count`` lines of a list file (for format detection)."""
    with opened_file(path, display) as lines:
        return [line for _, line in zip(range(count), lines, strict=False)]
