"""Sequence numbers reserved ahead of use, on disk, so that a crash's loss is always counted.

Events get their sequence number in memory (``submit`` never does I/O); a batch records how far
the numbering got only when it commits, so a SIGKILL or power cut would leave the events still in
memory without a trace. The watermark closes that gap: before a number is handed out, a number
at or above it has been written to ``incidents.seq`` and fsync'd. A background thread keeps the
reservation ahead of the numbering (``reserve`` returns at once; the fsync is the thread's), by a
block sized to what 50 ms of the current event rate needs, at least :data:`MIN_BLOCK`.

After a crash, every number up to the watermark may have been handed out: the loss counted is
``watermark - durable``. It over-counts by the unused part of the last block (at most the block
recorded with the watermark, logged as the bound); it never under-counts unless the numbering ran
past the reservation while the disk stalled, which :attr:`Watermark.overrun` counts.

File format: one line ``WATERMARK BLOCK`` padded to 64 bytes, rewritten in place (``pwrite``: no
new blocks, so a full disk does not stop it).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)
MIN_BLOCK = 64
AHEAD_SECONDS = 0.05  # the reserve covers this much of the current rate, twice over
_SIZE = 64


class Watermark:
    """The reserved high-water mark of one queue's sequence numbers."""

    def __init__(self, path: Path, current: Callable[[], int]) -> None:
        self.path = path
        self._current = current  # the highest number handed out so far
        self.reserved = 0
        self.block = MIN_BLOCK
        self.overrun = 0  # numbers handed out beyond the reservation (disk too slow)
        self.errors = 0
        self._fd: int | None = None
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._rate_at = (0, time.monotonic())

    def read(self) -> tuple[int, int]:
        """``(watermark, block)`` an earlier run left, (0, 0) if none."""
        try:
            fields = self.path.read_bytes().split()
            return int(fields[0]), int(fields[1])
        except (OSError, ValueError, IndexError):
            return 0, 0

    def start(self) -> None:
        """Reserve a first block (synchronously), then keep reserving in a thread."""
        self.reserve_now(self._current())
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="incident-watermark", daemon=True)
        self._thread.start()

    def stop(self, final: int) -> None:
        """A clean stop: nothing beyond ``final`` was handed out, so the next start finds no gap."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self._write(final, 0)
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def low(self) -> int:
        """When the numbering passes this, the thread should reserve more (``submit`` wakes it)."""
        return self.reserved - self.block // 2

    def wake(self) -> None:
        self._wake.set()

    def reserve_now(self, handed_out: int) -> None:
        """Reserve ``block`` numbers past ``handed_out`` and fsync (on the caller's thread)."""
        if handed_out > self.reserved:
            self.overrun += handed_out - self.reserved
        self.block = self._block_for(handed_out)
        self._write(handed_out + self.block, self.block)

    def _block_for(self, handed_out: int) -> int:
        last, at = self._rate_at
        now = time.monotonic()
        self._rate_at = (handed_out, now)
        rate = (handed_out - last) / max(now - at, 1e-3) if last else 0.0
        return max(MIN_BLOCK, int(rate * AHEAD_SECONDS) * 2)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.01)
            self._wake.clear()
            handed_out = self._current()
            if handed_out >= self.low() and not self._stop.is_set():
                self.reserve_now(handed_out)

    def _write(self, watermark: int, block: int) -> None:
        line = f"{watermark} {block}\n".encode().ljust(_SIZE)
        try:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.pwrite(self._fd, line, 0)
            os.fdatasync(self._fd)
        except OSError as exc:
            self.errors += 1
            if self.errors == 1 or self.errors % 1000 == 0:
                log.error("incident watermark %s cannot be written (%s time(s)): %s", self.path, self.errors, exc)
            return
        self.reserved = watermark
