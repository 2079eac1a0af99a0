"""Durable writes: a replaced file is whole or untouched, readable as before; appends add lines."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from filterproxy.files import append_line, write_atomic


def test_write_atomic_replaces_text_bytes_and_chunks(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "state.json"
    write_atomic(target, "first ✓")
    assert target.read_text(encoding="utf-8") == "first ✓"
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    write_atomic(target, [b"a", memoryview(b"bc"), b"d"])
    assert target.read_bytes() == b"abcd"
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]  # no temporary left behind


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "index.fpi"
    write_atomic(target, b"old")

    def chunks() -> Iterator[bytes]:
        yield b"new, half"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_atomic(target, chunks())
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["index.fpi"]


def test_replaced_files_keep_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "deny.txt"
        write_atomic(target, "bet.example\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # readable by the service user, as before


def test_append_line_adds_one_line_each(tmp_path: Path) -> None:
    log = tmp_path / "audit" / "audit.jsonl"
    append_line(log, '{"n": 1}')
    append_line(log, '{"n": 2}')
    assert log.read_text().splitlines() == ['{"n": 1}', '{"n": 2}']
