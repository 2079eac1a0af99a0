"""Proxy-Authorization: Basic, checked against LDAP or the local user file, off the event loop.

A check runs in a small thread pool with a deadline; answers are cached briefly (an
OrderedDict: O(1) lookup, refresh and eviction of the least recent), and concurrent checks of
the same credentials (a browser opening six connections at once) share one directory call.
The cache key holds a SHA-256 of the password, never the password.

Outcomes: ``ok`` (an Identity), ``rejected`` (wrong password, unknown user, malformed header)
and ``unavailable`` (the directory cannot be reached or did not answer in time: the caller
falls back to the address-based policy).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from filterproxy.errors import DirectoryUnavailable, IdentityError
from filterproxy.identity.metrics import IdentityMetrics
from filterproxy.identity.model import Identity, IdentitySource
from filterproxy.identity.settings import ProxyAuthSettings
from filterproxy.identity.userfile import UserEntry, load_users
from filterproxy.passwords import verify_password

log = logging.getLogger(__name__)
NEGATIVE_SECONDS = 30.0  # a refused login is remembered less long: the user may be retyping it
RETRY_SECONDS = 30.0  # after an outage, logins not in the cache skip the directory this long (no waits)
_LOG_EVERY = 60.0

#: (user, password) -> (canonical user name, directory groups) or None; may raise DirectoryUnavailable.
Checker = Callable[[str, str], "tuple[str, tuple[str, ...]] | None"]


class AuthOutcome(enum.StrEnum):
    OK = "ok"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"


class AuthResult(NamedTuple):
    outcome: AuthOutcome
    identity: Identity | None = None
    error: str | None = None


def parse_basic(header: str) -> tuple[str, str] | None:
    """(user, password) from a ``Basic`` credential, or None when it is not one."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user.strip(), password) if sep and user.strip() else None


class UserFileChecker:
    """Checks passwords against the local user file, re-read when it changes (called from worker threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loaded: tuple[float | None, dict[str, UserEntry]] = (None, {})

    def __call__(self, user: str, password: str) -> tuple[str, tuple[str, ...]] | None:
        try:
            mtime: float | None = self.path.stat().st_mtime
        except OSError:
            mtime = None
        if mtime != self._loaded[0]:
            self._loaded = (mtime, load_users(self.path))  # one assignment: threads see old or new
        entry = self._loaded[1].get(user.lower())
        if entry is None:
            verify_password(password, _DUMMY)  # the same time whether or not the user exists
            return None
        return (entry.user, entry.groups) if verify_password(password, entry.hashed) else None


def file_checker(path: Path) -> Checker:
    """A checker over the local user file."""
    return UserFileChecker(path)


_DUMMY = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


class ProxyAuthenticator:
    def __init__(self, settings: ProxyAuthSettings, checker: Checker, metrics: IdentityMetrics) -> None:
        self.settings = settings
        self.checker = checker
        self.metrics = metrics
        self.deadline = settings.ldap.timeout * 2 + 1 if settings.ldap is not None else 5.0
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="filterproxy-auth")
        self._cache: OrderedDict[tuple[str, bytes], tuple[float, Identity | None]] = OrderedDict()
        self._flight: dict[tuple[str, bytes], asyncio.Future[tuple[str, tuple[str, ...]] | None]] = {}
        self._logged = -_LOG_EVERY
        self._down_until = 0.0
        self._down_error = ""

    async def check(self, header: str) -> AuthResult:
        credentials = parse_basic(header)
        if credentials is None:
            self.metrics.auth["rejected"].inc()
            return AuthResult(AuthOutcome.REJECTED, error="not Basic credentials")
        user, password = credentials
        key = (user.lower(), hashlib.sha256(password.encode("utf-8")).digest())
        cached = self._cached(key)
        if cached is not None:
            self.metrics.auth["cached"].inc()
            return _result(cached[1])
        if time.monotonic() < self._down_until:  # a recent outage: answer now instead of waiting again
            self.metrics.auth["directory_error"].inc()
            return AuthResult(AuthOutcome.UNAVAILABLE, error=self._down_error)
        try:
            found = await self._lookup(key, user, password)
        except IdentityError as exc:  # the directory is down (or the user file unreadable)
            self.metrics.auth["directory_error"].inc()
            self._down_until, self._down_error = time.monotonic() + RETRY_SECONDS, str(exc)
            self._log_outage(str(exc))
            return AuthResult(AuthOutcome.UNAVAILABLE, error=str(exc))
        who = Identity(found[0], found[1], IdentitySource.PROXY_AUTH, time.time()) if found is not None else None
        self._remember(key, who)
        self.metrics.auth["ok" if who is not None else "rejected"].inc()
        return _result(who)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _lookup(self, key: tuple[str, bytes], user: str, password: str) -> tuple[str, tuple[str, ...]] | None:
        flight = self._flight.get(key)
        if flight is None:
            loop = asyncio.get_running_loop()
            flight = asyncio.ensure_future(loop.run_in_executor(self._pool, self._timed, user, password))
            self._flight[key] = flight
            flight.add_done_callback(lambda _f: self._flight.pop(key, None))
        try:
            return await asyncio.wait_for(asyncio.shield(flight), self.deadline)
        except TimeoutError:
            raise DirectoryUnavailable(f"the directory did not answer within {self.deadline:.0f} s") from None

    def _timed(self, user: str, password: str) -> tuple[str, tuple[str, ...]] | None:
        started = time.perf_counter()
        try:
            return self.checker(user, password)
        finally:
            self.metrics.directory_time.observe(time.perf_counter() - started)

    def _cached(self, key: tuple[str, bytes]) -> tuple[float, Identity | None] | None:
        hit = self._cache.get(key)
        if hit is None:
            return None
        if hit[0] <= time.monotonic():
            del self._cache[key]
            return None
        self._cache.move_to_end(key)
        return hit

    def _remember(self, key: tuple[str, bytes], who: Identity | None) -> None:
        seconds = self.settings.cache_seconds if who is not None else min(NEGATIVE_SECONDS, self.settings.cache_seconds)
        if seconds <= 0:
            return
        self._cache[key] = (time.monotonic() + seconds, who)
        self._cache.move_to_end(key)
        while len(self._cache) > self.settings.cache_size:
            self._cache.popitem(last=False)

    def _log_outage(self, why: str) -> None:
        now = time.monotonic()
        if now - self._logged >= _LOG_EVERY:
            self._logged = now
            log.error("proxy authentication: directory unavailable, using the address-based policy: %s "
                      "(logged once a minute; counted in filterproxy_identity_proxy_auth_total)", why)


def _result(who: Identity | None) -> AuthResult:
    if who is None:
        return AuthResult(AuthOutcome.REJECTED, error="wrong user name or password")
    return AuthResult(AuthOutcome.OK, who)
