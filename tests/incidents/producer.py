"""A block-event producer run as a separate process by the crash tests.

Usage: producer.py DATA_DIR STORE RATE. Prints READY once the queue runs, then the reference of
every event *after* submitting it (so the test knows a subset of what was submitted), and DONE
after a SIGTERM has drained the queue.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry

from filterproxy.incidents.event import BlockEvent, new_reference
from filterproxy.incidents.queue import IncidentQueue
from filterproxy.incidents.settings import IncidentSettings
from filterproxy.model import Action, Category, Reason, Verdict

VERDICT = Verdict(
    Action.BLOCK,
    Reason.CATEGORY,
    "pupils",
    "www.bet.example",
    Category.GAMBLING,
    "ut1/gambling",
    "bet.example",
    "bet.example",
)


async def produce(queue: IncidentQueue, rate: int, stop: asyncio.Event) -> None:
    per_tick, n = max(1, rate // 100), 0
    while not stop.is_set():
        refs = []
        for _ in range(per_tick):
            n += 1
            ref = new_reference()
            client = f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250}"
            queue.submit(BlockEvent(datetime.now(UTC), "dns", client, VERDICT, ref, qtype="A"))
            refs.append(ref)
        os.write(1, ("\n".join(refs) + "\n").encode())
        await asyncio.sleep(0.01)


async def main(data_dir: Path, store: str, rate: int) -> None:
    settings = IncidentSettings(store=store, flush_interval=0.25, retry_interval=0.2)
    queue = IncidentQueue(settings, data_dir, CollectorRegistry(), node="crash")
    await queue.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    os.write(1, b"READY\n")
    await produce(queue, rate, stop)
    started = time.monotonic()
    await queue.stop()
    os.write(1, f"DONE {time.monotonic() - started:.3f}\n".encode())


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
