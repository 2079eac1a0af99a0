"""Basic authentication for /metrics: PBKDF2 password hashes and header checks.

Checking a PBKDF2 hash costs tens of milliseconds on purpose; a Prometheus server sends the
same header every scrape, so the last header that verified is remembered (as a digest) and
later scrapes cost one comparison.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from filterproxy.errors import ConfigError
from filterproxy.metrics.settings import MetricsSettings

ITERATIONS = 200_000
_SCHEME = "pbkdf2_sha256"


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: str | None = None) -> str:
    """``pbkdf2_sha256$ITERATIONS$SALT$HASH`` (hash base64, no padding) for the configuration."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    encoded = base64.b64encode(digest).decode().rstrip("=")
    return f"{_SCHEME}${iterations}${salt}${encoded}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password`."""
    try:
        scheme, iterations, salt, _ = encoded.split("$")
        rounds = int(iterations)
    except ValueError:
        return False
    if scheme != _SCHEME or rounds < 1:
        return False
    return hmac.compare_digest(hash_password(password, iterations=rounds, salt=salt), encoded)


@dataclass(slots=True)
class BasicAuth:
    """Checks ``Authorization: Basic ...`` headers against one user."""

    username: str
    password_hash: str
    _verified: bytes = field(default=b"", repr=False)

    @classmethod
    def from_settings(cls, settings: MetricsSettings) -> BasicAuth | None:
        """None when no authentication is configured; the password is hashed in memory at once."""
        if settings.username is None:
            return None
        if settings.password_hash is not None:
            return cls(settings.username, settings.password_hash)
        return cls(settings.username, hash_password(_read_secret(settings)))

    def check(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        token = hashlib.sha256(header.encode()).digest()
        if self._verified and hmac.compare_digest(token, self._verified):
            return True
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        ok = hmac.compare_digest(user.encode(), self.username.encode()) and verify_password(
            password, self.password_hash
        )
        if ok:
            self._verified = token
        return ok


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
