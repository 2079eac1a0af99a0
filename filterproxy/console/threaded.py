"""The console served by uvicorn on its own thread and event loop, in whichever process runs it.

`filterproxy serve` runs it in a child process by default (:mod:`filterproxy.console.child` builds one
of these there); ``console.process: false`` runs it on a thread of the service itself. Temporary
unblock approvals are expired here once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import uvicorn

from filterproxy.classify.engine import Engine
from filterproxy.config.model import Config
from filterproxy.config.types import split_host_port
from filterproxy.console.decisions import expire_due
from filterproxy.console.state import ConsoleState
from filterproxy.errors import FilterproxyError

log = logging.getLogger(__name__)
EXPIRY_INTERVAL = 60.0


class ThreadedConsole:
    """uvicorn serving the console app on ``config.console.listen``, on a thread of this process."""

    def __init__(self, config: Config, engine: Engine | None = None) -> None:
        self.config = config
        self.host, self._port = split_host_port(config.console.listen)
        self._engine = engine
        self._state: ConsoleState | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    @property
    def state(self) -> ConsoleState:
        """The routes' shared state."""
        if self._state is None:
            self._state = ConsoleState(self.config, self._engine)
        return self._state

    @property
    def serving(self) -> bool:
        return self._server is not None and self._server.started

    @property
    def port(self) -> int:
        return self._port

    async def start(self) -> None:
        from filterproxy.console.app import create_app  # not imported by a parent that only spawns

        config = uvicorn.Config(create_app(self.state), host=self.host, port=self._port, log_config=None,
                                access_log=False, server_header=False, lifespan="off", loop="asyncio",
                                timeout_graceful_shutdown=5, limit_concurrency=200)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="console", daemon=True)
        self._thread.start()
        await asyncio.get_running_loop().run_in_executor(None, self._started.wait, 15.0)

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

    async def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join, 10.0)
            self._thread = None
        if self._state is not None:
            with contextlib.suppress(Exception):
                self._state.close()
