"""Signed session cookies: who is logged in, until when, and the session's CSRF token.

The cookie holds ``base64(json).base64(hmac-sha256)`` under a key kept in
``<data_dir>/console/secret.key`` (made on first start, owner-readable only). Nothing is stored
server-side; a session ends when it expires, when the person logs out (the cookie is cleared), or
when their password changes or they are removed (the cookie's ``generation`` no longer matches).
Visitors who are not logged in get an anonymous session too, so the login form and the public
unblock request form carry a CSRF token like every other form.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from filterproxy.files import write_atomic

COOKIE = "fp_session"
SECRET_FILE = Path("console") / "secret.key"
ANON_SECONDS = 2 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    user: str | None  # None: not logged in
    generation: int
    expires: float
    csrf: str

    @classmethod
    def anonymous(cls) -> Session:
        return cls(None, 0, time.time() + ANON_SECONDS, secrets.token_urlsafe(24))

    @classmethod
    def for_user(cls, name: str, generation: int, seconds: float) -> Session:
        return cls(name, generation, time.time() + seconds, secrets.token_urlsafe(24))


def load_secret(data_dir: Path) -> bytes:
    """The signing key, made on first use."""
    path = data_dir / SECRET_FILE
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        if len(key) >= 32:
            return key
    except (FileNotFoundError, ValueError):
        pass
    key = secrets.token_bytes(32)
    old = os.umask(0o077)
    try:
        write_atomic(path, key.hex() + "\n")
    finally:
        os.umask(old)
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Encodes sessions into cookie values and back, refusing anything not signed by ``key``."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())

    def dump(self, session: Session) -> str:
        payload = {"u": session.user, "g": session.generation, "e": int(session.expires), "c": session.csrf}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
        return f"{body}.{self._mac(body)}"

    def load(self, value: str | None) -> Session | None:
        """The session in a cookie value, or None if it is missing, forged or expired."""
        if not value or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        try:
            if not hmac.compare_digest(mac, self._mac(body)):
                return None
            data = json.loads(_unb64(body))
            session = Session(data["u"], int(data["g"]), float(data["e"]), str(data["c"]))
        except (ValueError, KeyError, TypeError, UnicodeError):
            return None
        if session.expires < time.time() or not session.csrf:
            return None
        return session
