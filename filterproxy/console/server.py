"""The console as a service component: uvicorn in a child process (default) or on its own thread.

``filterproxy serve`` starts it beside the resolver and the proxy; nothing it does (templates,
SQLite, scrypt) runs on their loop, and in a child process it does not even share their
interpreter lock. A console that cannot bind its port is logged and left off: the filter keeps
filtering. The child (:mod:`filterproxy.console.child`) and thread mode both serve a
:class:`~filterproxy.console.threaded.ThreadedConsole`.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing

from filterproxy.classify.engine import Engine
from filterproxy.config.model import Config
from filterproxy.console.child import spawn
from filterproxy.console.state import ConsoleState
from filterproxy.console.threaded import ThreadedConsole

log = logging.getLogger(__name__)


class ConsoleServer:
    """Serves the console on ``config.console.listen``; ``port`` is the bound port once started."""

    def __init__(self, config: Config, engine: Engine | None = None, *, in_thread: bool | None = None) -> None:
        self.config = config
        self.in_thread = not config.console.process if in_thread is None else in_thread
        self._threaded = ThreadedConsole(config, engine)
        self.host = self._threaded.host
        self._child: multiprocessing.process.BaseProcess | None = None
        self._child_port: int | None = None

    @property
    def state(self) -> ConsoleState:
        """The routes' shared state (thread mode; a child process has its own)."""
        return self._threaded.state

    @property
    def serving(self) -> bool:
        if self._child is not None:
            return self._child.is_alive()
        return self._threaded.serving

    @property
    def port(self) -> int:
        return self._child_port if self._child_port is not None else self._threaded.port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        if not self.in_thread:
            await self._start_child()
            return
        await self._threaded.start()
        if self._threaded.serving:
            log.info("console on %s", self.url)

    async def _start_child(self) -> None:
        self._child, report = spawn(self.config.model_dump(mode="json"))
        loop = asyncio.get_running_loop()
        ready = await loop.run_in_executor(None, report.poll, 60.0)
        try:
            kind, value = report.recv() if ready else ("error", "no answer from the console process")
        except EOFError:
            kind, value = "error", "the console process ended"
        report.close()
        if kind == "port":
            self._child_port = int(value)
            log.info("console on %s (process %s)", self.url, self._child.pid)
        else:
            log.error("console not started: %s", value)
            await self._end_child()

    async def _end_child(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        if child.is_alive():
            child.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, child.join, 15.0)
        if child.is_alive():
            child.kill()
            await loop.run_in_executor(None, child.join, 5.0)

    async def stop(self) -> None:
        await self._end_child()
        await self._threaded.stop()
