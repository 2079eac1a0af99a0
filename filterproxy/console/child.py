"""The console in a child process of `filterproxy serve`: its own interpreter, so neither its Python work
(templates, forms, SQLite) nor scrypt ever holds the resolver's interpreter lock.

The parent passes the validated configuration; the child binds, drops root like the resolver does,
reports the bound port (or why it could not bind) on a pipe, and serves until SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger(__name__)
CHILD_NICENESS = 10


def child_main(config_data: dict[str, Any], report: Connection, log_level: int) -> None:
    # below the resolver in the CPU scheduler: on a busy two-core gateway a flood of scrypt checks
    # waits for DNS, not the other way round (people notice milliseconds less than pupils' devices do)
    os.nice(CHILD_NICENESS)
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from filterproxy.config.model import Config
    from filterproxy.console.threaded import ThreadedConsole

    config = Config.model_validate(config_data)
    server = ThreadedConsole(config, None)
    asyncio.run(_serve(server, report))


async def _serve(server: Any, report: Connection) -> None:
    from filterproxy.dns.privileges import drop_privileges

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    if not server.serving:
        report.send(("error", f"cannot listen on {server.config.console.listen}"))
        return
    drop_privileges(server.config.dns.user)
    report.send(("port", server.port))
    report.close()
    orphan = asyncio.create_task(_stop_when_orphaned(stop))
    await stop.wait()
    orphan.cancel()
    await server.stop()


async def _stop_when_orphaned(stop: asyncio.Event) -> None:
    """A service killed without its stop (SIGKILL, OOM) must not leave the console holding its port."""
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    log.warning("the filterproxy service has gone; the console stops")
    stop.set()


def spawn(config_data: dict[str, Any]) -> tuple[multiprocessing.process.BaseProcess, Connection]:
    context = multiprocessing.get_context("spawn")  # never fork a process that runs threads and loops
    ours, theirs = context.Pipe(duplex=False)
    process = context.Process(target=child_main, args=(config_data, theirs, logging.getLogger().level),
                              name="filterproxy-console", daemon=True)
    process.start()
    theirs.close()
    return process, ours
