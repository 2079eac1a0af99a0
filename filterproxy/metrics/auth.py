"""Basic authentication for /metrics: PBKDF2 password hashes, checked off the event loop.

Checking a PBKDF2 hash costs tens of milliseconds on purpose, so it never runs on the loop that
also answers DNS: :meth:`BasicAuth.check` hands it to one worker thread (hashlib releases the GIL
while it derives). A Prometheus server sends the same header every scrape, so headers that
verified are remembered by a keyed hash (a key drawn at start, so the cache reveals nothing) and
later scrapes cost one HMAC. The check takes the same time whatever is wrong: the user name is
compared by digest and the KDF always runs, so a wrong user name cannot be told from a wrong
password. Failures are rate-limited per client address (:class:`FailureLimit`), and only a few
checks may wait for the worker at once: beyond that the answer is 429 without deriving anything.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import hashlib
import hmac
import os
import secrets
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from filterproxy.errors import ConfigError
from filterproxy.metrics.settings import MetricsSettings

ITERATIONS = 200_000
_SCHEME = "pbkdf2_sha256"
_CACHE = 8  # verified headers remembered (a few Prometheus servers and a person)
_MAX_WAITING = 4  # checks queued for the worker; more are refused at once


class Outcome(enum.StrEnum):
    """How one request's credentials fared (a bounded metric label)."""

    OK = "ok"
    CACHED = "cached"
    DENIED = "denied"
    LIMITED = "limited"


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: str | None = None) -> str:
    """``pbkdf2_sha256$ITERATIONS$SALT$HASH`` (hash base64, no padding) for the configuration."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    encoded = base64.b64encode(digest).decode().rstrip("=")
    return f"{_SCHEME}${iterations}${salt}${encoded}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password` (constant time)."""
    try:
        scheme, iterations, salt, _ = encoded.split("$")
        rounds = int(iterations)
    except ValueError:
        return False
    if scheme != _SCHEME or rounds < 1:
        return False
    return hmac.compare_digest(hash_password(password, iterations=rounds, salt=salt), encoded)


class FailureLimit:
    """A token bucket of failed attempts per client address: ``per_minute`` refill, as many in a burst."""

    def __init__(self, per_minute: int, *, clients: int = 4096) -> None:
        self.per_minute = per_minute
        self.clients = clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)

    def allowed(self, client: str, now: float | None = None) -> bool:
        """Whether ``client`` may try now (0 disables the limit)."""
        if self.per_minute <= 0:
            return True
        return self._tokens(client, time.monotonic() if now is None else now) >= 1.0

    def failed(self, client: str, now: float | None = None) -> None:
        if self.per_minute <= 0:
            return
        at = time.monotonic() if now is None else now
        self._buckets[client] = (self._tokens(client, at) - 1.0, at)
        self._buckets.move_to_end(client)
        while len(self._buckets) > self.clients:  # bounded: the oldest client forgets its failures
            self._buckets.popitem(last=False)

    def _tokens(self, client: str, now: float) -> float:
        tokens, at = self._buckets.get(client, (float(self.per_minute), now))
        return min(float(self.per_minute), tokens + (now - at) * self.per_minute / 60.0)


class BasicAuth:
    """Checks ``Authorization: Basic ...`` headers against one user."""

    def __init__(self, username: str, password_hash: str, *, failures_per_minute: int = 10) -> None:
        self.username = username
        self.password_hash = password_hash
        self.limit = FailureLimit(failures_per_minute)
        self._key = secrets.token_bytes(32)
        self._user_digest = self._digest(username.encode())
        self._verified: OrderedDict[bytes, None] = OrderedDict()
        self._worker: ThreadPoolExecutor | None = None
        self._waiting = 0

    @classmethod
    def from_settings(cls, settings: MetricsSettings) -> BasicAuth | None:
        """None when no authentication is configured; the password is hashed in memory at once."""
        if settings.username is None:
            return None
        limit = settings.auth_failures_per_minute
        if settings.password_hash is not None:
            return cls(settings.username, settings.password_hash, failures_per_minute=limit)
        return cls(settings.username, hash_password(_read_secret(settings)), failures_per_minute=limit)

    def _digest(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()

    async def check(self, header: str | None, client: str) -> Outcome:
        """The outcome for one request; the KDF runs in the worker thread, never on the loop."""
        if header and self._digest(header.encode()) in self._verified:
            return Outcome.CACHED
        if not self.limit.allowed(client) or self._waiting >= _MAX_WAITING:
            return Outcome.LIMITED
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-auth")
        self._waiting += 1
        try:
            ok = await asyncio.get_running_loop().run_in_executor(self._worker, self.verify, header)
        finally:
            self._waiting -= 1
        if not ok:
            self.limit.failed(client)
            return Outcome.DENIED
        return Outcome.OK

    def verify(self, header: str | None) -> bool:
        """The slow check (blocking): the same work whether the user name, the password or both are wrong."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        user_ok = hmac.compare_digest(self._digest(user.encode()), self._user_digest)
        password_ok = verify_password(password, self.password_hash)  # always: a wrong user costs the same
        if not (user_ok and password_ok):
            return False
        self._verified[self._digest(header.encode())] = None
        while len(self._verified) > _CACHE:
            self._verified.popitem(last=False)
        return True

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=False, cancel_futures=True)
            self._worker = None


def _read_secret(settings: MetricsSettings) -> str:
    if settings.password_file is not None:
        try:
            lines = Path(settings.password_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"metrics.password_file {settings.password_file}: {exc.strerror}") from exc
        if not lines or not lines[0]:
            raise ConfigError(f"metrics.password_file {settings.password_file}: the first line is empty")
        return lines[0]
    name = settings.password_env or ""
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"metrics.password_env: environment variable {name!r} is not set or empty")
    return value
