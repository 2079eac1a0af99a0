"""The console as a service component: uvicorn in a child process (default) or on its own thread.

``filterproxy serve`` starts it beside the resolver and the proxy; nothing it does (templates,
SQLite, scrypt) runs on their loop, and in a child process it does not even share their
interpreter lock. A console that cannot bind its port is logged and left off: the filter keeps
filtering. Temporary unblock approvals are expired by the console once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import threading

import uvicorn

from filterproxy.classify.engine import Engine
from filterproxy.config.model import Config
from filterproxy.config.types import split_host_port
from filterproxy.console.child import spawn
from filterproxy.console.decisions import expire_due
from filterproxy.console.state import ConsoleState
from filterproxy.errors import FilterproxyError

log = logging.getLogger(__name__)
EXPIRY_INTERVAL = 60.0


class ConsoleServer:
    """Serves the console on ``config.console.listen``; ``port`` is the bound port once started."""

    def __init__(self, config: Config, engine: Engine | None = None, *, in_thread: bool | None = None) -> None:
        self.config = config
        self.host, self._port = split_host_port(config.console.listen)
        self.in_thread = not config.console.process if in_thread is None else in_thread
        self._engine = engine
        self._state: ConsoleState | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._child: multiprocessing.process.BaseProcess | None = None

    @property
    def state(self) -> ConsoleState:
        """The routes' shared state (thread mode; a child process has its own)."""
        if self._state is None:
            self._state = ConsoleState(self.config, self._engine)
        return self._state

    @property
    def serving(self) -> bool:
        if self._child is not None:
            return self._child.is_alive()
        return self._server is not None and self._server.started

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    async def start(self) -> None:
        if not self.in_thread:
            await self._start_child()
            return
        from filterproxy.console.app import create_app  # not imported by a parent that only spawns

        config = uvicorn.Config(create_app(self.state), host=self.host, port=self._port, log_config=None,
                                access_log=False, server_header=False, lifespan="off", loop="asyncio",
                                timeout_graceful_shutdown=5, limit_concurrency=200)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="console", daemon=True)
        self._thread.start()
        await asyncio.get_running_loop().run_in_executor(None, self._started.wait, 15.0)
        if self._server.started:
            log.info("console on %s", self.url)

    def _run(self) -> None:
        assert self._server is not None
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(self._server))
        except (OSError, SystemExit) as exc:  # uvicorn exits when it cannot bind
            log.error("console not started on %s: %s", self.config.console.listen, exc)
        finally:
            self._started.set()
            loop.close()

    async def _serve(self, server: uvicorn.Server) -> None:
        expiry = asyncio.create_task(self._expire_periodically())
        watcher = asyncio.create_task(self._note_started(server))
        try:
            await server.serve()
        finally:
            expiry.cancel()
            watcher.cancel()

    async def _note_started(self, server: uvicorn.Server) -> None:
        while not server.started:
            await asyncio.sleep(0.02)
        sockets = [s for srv in getattr(server, "servers", []) for s in srv.sockets]
        if sockets:
            self._port = sockets[0].getsockname()[1]
        self._started.set()

    async def _expire_periodically(self) -> None:
        while True:
            try:
                for request in await self.state.run(expire_due, self.config, self.state.requests):
                    log.info("unblock request %d for %s expired", request.id, request.site)
            except (FilterproxyError, OSError) as exc:
                log.warning("expiring unblock approvals failed: %s", exc)
            await asyncio.sleep(EXPIRY_INTERVAL)

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
            self._port = int(value)
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
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join, 10.0)
            self._thread = None
        if self._state is not None:
            with contextlib.suppress(Exception):
                self._state.close()
