"""The append-only spool: where events go while the store is down, replayed when it returns.

One JSON object per line: ``{"seq": N, "e": {...}}`` for an event and ``{"submitted": N}``
for the sequence checkpoint written with each batch. Each append is flushed and fsync'd
(appends happen once per writer cycle, so fsyncs come in batches). A torn last line after
SIGKILL is skipped and counted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filterproxy.incidents.codec import event_from_dict, event_to_dict
from filterproxy.incidents.fold import Sequenced

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SpoolContents:
    events: list[Sequenced]  # empty from scan(): it only counts
    submitted: int  # the highest checkpoint written
    bad_lines: int
    last_seq: int = 0
    count: int = 0


class Spool:
    """An append-only JSON-lines file under data_dir."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending = 0  # events in the file (known since open or last read)

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def append(self, batch: list[Sequenced], submitted: int) -> None:
        """Append events and a checkpoint, then fsync; raises OSError (disk full) to the caller."""
        lines = [json.dumps({"seq": seq, "e": event_to_dict(ev)}, separators=(",", ":")) for seq, ev in batch]
        lines.append(json.dumps({"submitted": submitted}))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, ("\n".join(lines) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        self.pending += len(batch)

    def read(self) -> SpoolContents:
        """Everything in the spool, in order; torn or malformed lines are skipped and counted."""
        return self._walk(keep=True)

    def scan(self) -> SpoolContents:
        """Counts, last sequence number and checkpoint, without keeping the events in memory."""
        return self._walk(keep=False)

    def chunks(self, size: int) -> Iterator[list[Sequenced]]:
        """The events in order, ``size`` at a time (a long outage's spool never sits in memory whole)."""
        chunk: list[Sequenced] = []
        for item in self._records():
            if item is not None and not isinstance(item, int):
                chunk.append(item)
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    def _records(self) -> Iterator[Sequenced | int | None]:
        """Each line as an event, a checkpoint (int) or None (unreadable)."""
        try:
            with self.path.open("rb") as fh:
                for raw in fh:
                    try:
                        record = json.loads(raw)
                        if "submitted" in record:
                            yield int(record["submitted"])
                        else:
                            yield (int(record["seq"]), event_from_dict(record["e"]))
                    except (ValueError, KeyError, TypeError):
                        yield None
        except FileNotFoundError:
            return

    def _walk(self, *, keep: bool) -> SpoolContents:
        events: list[Sequenced] = []
        submitted = bad = last = count = 0
        for item in self._records():
            if item is None:
                bad += 1
            elif isinstance(item, int):
                submitted = max(submitted, item)
            else:
                if keep:
                    events.append(item)
                last, count = item[0], count + 1
        if bad:
            log.warning("incident spool %s: skipped %s unreadable line(s)", self.path, bad)
        self.pending = count
        return SpoolContents(events, submitted, bad, last, count)

    def shift_tail(self, count: int, offset: int, submitted: int) -> None:
        """Renumber the last ``count`` events by ``offset`` (atomically: temp file, fsync, rename)."""
        contents = self.read()
        cut = len(contents.events) - count
        events = contents.events[:cut] + [(seq + offset, ev) for seq, ev in contents.events[cut:]]
        temp = self.path.with_name(self.path.name + ".tmp")
        temp.unlink(missing_ok=True)
        Spool(temp).append(events, max(submitted, contents.submitted))
        os.replace(temp, self.path)
        self.pending = len(events)

    def clear(self) -> None:
        """Empty the spool once its events are in the store."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.pending = 0
