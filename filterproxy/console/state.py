"""What the console's routes share: configuration, people, sessions, limits and its thread pools.

Two small pools keep blocking work off the console's event loop: one for password hashing
(bounded: a flood queues behind it and then gets "busy", it never grows threads or memory), one
for stores and lists. Neither ever runs on the resolver's or the proxy's loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from filterproxy.classify.classifier import Classifier
from filterproxy.classify.engine import Engine
from filterproxy.config.model import Config
from filterproxy.console.audit import console_audit
from filterproxy.console.limits import LoginLimiter, WindowLimiter
from filterproxy.console.sessions import Signer, load_secret
from filterproxy.console.settings import ConsoleSettings
from filterproxy.console.unblock import RequestStore
from filterproxy.console.users import User, UserStore
from filterproxy.lists.loader import local_files
from filterproxy.passwords import dummy_hash, verify_password

T = TypeVar("T")
MAX_WAITING_LOGINS = 8


class Busy(Exception):
    """Too many sign-ins are being checked at once."""


@dataclass
class ConsoleState:
    config: Config
    engine: Engine | None = None  # the service's live engine; None: load the lists from disk per check
    users: UserStore = field(init=False)
    requests: RequestStore = field(init=False)
    signer: Signer = field(init=False)
    logins: LoginLimiter = field(init=False)
    asks: WindowLimiter = field(init=False)
    _hashing: ThreadPoolExecutor = field(init=False)
    _work: ThreadPoolExecutor = field(init=False)
    _waiting_logins: int = 0

    def __post_init__(self) -> None:
        s = self.settings
        self.users = UserStore(self.config.data_dir)
        self.requests = RequestStore(self.config.data_dir)
        self.signer = Signer(load_secret(self.config.data_dir))
        self.logins = LoginLimiter(s.login_attempts, s.lockout_minutes * 60.0)
        self.asks = WindowLimiter(s.request_limit_per_hour, 3600.0)
        self._hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="console-hash")
        self._work = ThreadPoolExecutor(max_workers=2, thread_name_prefix="console-work")

    @property
    def settings(self) -> ConsoleSettings:
        return self.config.console

    @property
    def audit_log(self) -> Path:
        return local_files(self.config).audit_log

    @property
    def classifier(self) -> Classifier | None:
        return self.engine.current if self.engine is not None else None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking ``fn`` in the work pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._work, functools.partial(fn, *args, **kwargs))

    async def audit(self, user: str, what: str, **detail: Any) -> None:
        await self.run(console_audit, self.audit_log, user, what, **detail)

    async def check_password(self, name: str, password: str) -> User | None:
        """The person if ``password`` is theirs; unknown names cost the same scrypt time."""
        if self._waiting_logins >= MAX_WAITING_LOGINS:
            raise Busy
        user = self.users.get(name)
        stored = user.password_hash if user is not None else dummy_hash()
        self._waiting_logins += 1
        try:
            loop = asyncio.get_running_loop()
            ok = await loop.run_in_executor(self._hashing, verify_password, password, stored)
        finally:
            self._waiting_logins -= 1
        return user if ok and user is not None else None

    def close(self) -> None:
        self._hashing.shutdown(wait=False, cancel_futures=True)
        self._work.shutdown(wait=False, cancel_futures=True)
