"""Durable file writes: whole-file replacement and fsync'd appends.

State the service relies on (compiled indexes, local lists, list-update state, the review
report) is replaced whole, never half-written: the new content goes to a temporary file beside
the target, is flushed to disk, renamed over the target, and the directory entry is flushed
too. Evidence for the annual review (the audit log, self-test runs) is appended one line at
a time and flushed before the call returns.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: Path, data: str | bytes | Iterable[bytes | memoryview]) -> None:
    """Replace ``path`` with ``data`` (text is UTF-8) so that readers see the old or the new file.

    The temporary file is created with the process's usual permissions (not ``mkstemp``'s 0600),
    so other users who could read the old file can read the new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    chunks: Iterable[bytes | memoryview] = (
        [data.encode("utf-8")] if isinstance(data, str) else [data] if isinstance(data, bytes) else data
    )
    try:
        with tmp.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Flush a directory's entries (a rename into it survives a power cut)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_line(path: Path, line: str) -> None:
    """Append one line (a newline is added) and flush it to disk before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())
