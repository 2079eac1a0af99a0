"""Download progress for a person at a terminal: one line per large download, rewritten in place.

Only ``lists update`` shows it, and only when stderr is a terminal (never in logs, cron mail or
the service). Small downloads stay silent: the line appears once a download passes ``min_bytes``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

#: Called with (bytes received so far, total bytes or None when the server did not say).
ProgressFn = Callable[[int, int | None], None]
MIB = 1 << 20


class TerminalProgress:
    """``label: 12.3 of 45.6 MB (27%)`` on one line, at most every ``interval`` seconds."""

    def __init__(self, stream: TextIO, label: str, *, min_bytes: int = MIB, interval: float = 0.2) -> None:
        self.stream, self.label, self.min_bytes, self.interval = stream, label, min_bytes, interval
        self._shown = False
        self._last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        if done < self.min_bytes and (total or 0) < self.min_bytes:
            return
        now = time.monotonic()
        if self._shown and now - self._last < self.interval and done != total:
            return
        self._last, self._shown = now, True
        size = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB ({done * 100 // total}%)" if total else f"{done / 1e6:.1f} MB"
        self.stream.write(f"\r{self.label}: {size}\x1b[K")
        self.stream.flush()

    def close(self) -> None:
        """End the line (if one was drawn) so the result line starts on its own."""
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()


def for_terminal(stream: TextIO | None = None) -> Callable[[str], TerminalProgress] | None:
    """A progress factory (per source id) when ``stream`` (default stderr) is a terminal, else None."""
    stream = sys.stderr if stream is None else stream
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return (lambda label: TerminalProgress(stream, label)) if tty else None
