"""The console's people: name, role, password hash and API tokens, in ``<data_dir>/console/users.json``.

The file is replaced whole (:func:`filterproxy.files.write_atomic`) and readable by its owner only.
The CLI edits it; the console re-reads it when it changes. Each person carries a ``generation``
that a password change or removal bumps, so sessions signed before it stop working at once.
API tokens are stored as SHA-256 digests: the token itself is shown once, when it is made.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filterproxy.errors import ConsoleError
from filterproxy.files import write_atomic

USERS_FILE = Path("console") / "users.json"
TOKEN_PREFIX = "fpc_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class Role(enum.StrEnum):
    """What a person may do: admin (ICT manager) > safeguarding (DSL) > viewer (SLT, governors)."""

    ADMIN = "admin"
    SAFEGUARDING = "safeguarding"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    password_hash: str
    generation: int = 1
    created: str = ""
    tokens: tuple[str, ...] = field(default=())  # SHA-256 hex digests

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["role"] = self.role.value
        data["tokens"] = list(self.tokens)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        return cls(str(data["name"]), Role(data["role"]), str(data["password_hash"]), int(data.get("generation", 1)),
                   str(data.get("created", "")), tuple(str(t) for t in data.get("tokens", ())))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserStore:
    """Read and edit the people file; reads are cached until the file changes."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / USERS_FILE
        self._cache: tuple[float, int, dict[str, User]] | None = None

    def all(self) -> dict[str, User]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        if self._cache is not None and self._cache[:2] == (st.st_mtime, st.st_size):
            return self._cache[2]
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            users = {u["name"]: User.from_json(u) for u in raw.get("users", [])}
        except (ValueError, KeyError, TypeError) as exc:
            raise ConsoleError(f"{self.path}: unreadable people file: {exc}") from exc
        self._cache = (st.st_mtime, st.st_size, users)
        return users

    def get(self, name: str) -> User | None:
        return self.all().get(name)

    def by_token(self, token: str) -> User | None:
        digest = token_digest(token)
        for user in self.all().values():
            if any(hmac.compare_digest(digest, t) for t in user.tokens):
                return user
        return None

    def _save(self, users: dict[str, User]) -> None:
        body = json.dumps({"users": [u.to_json() for u in users.values()]}, indent=2) + "\n"
        old = os.umask(0o077)
        try:
            write_atomic(self.path, body)
        finally:
            os.umask(old)
        self._cache = None

    def add(self, name: str, role: Role, password_hash: str) -> User:
        if not _NAME.match(name):
            raise ConsoleError(f"{name!r}: a name is 1-64 letters, digits and . _ @ - "
                               "(starting with a letter or digit)")
        users = dict(self.all())
        if name in users:
            raise ConsoleError(f"{name} exists already (use `users passwd` to change the password)")
        users[name] = User(name, role, password_hash, 1, datetime.now(UTC).isoformat(timespec="seconds"))
        self._save(users)
        return users[name]

    def remove(self, name: str) -> None:
        users = dict(self.all())
        if users.pop(name, None) is None:
            raise ConsoleError(f"no console user {name!r}")
        self._save(users)

    def set_password(self, name: str, password_hash: str) -> User:
        user = self._need(name)
        return self._put(replace(user, password_hash=password_hash, generation=user.generation + 1))

    def new_token(self, name: str) -> str:
        """Make an API token for ``name``; it is returned once and stored only as a digest."""
        user = self._need(name)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self._put(replace(user, tokens=(*user.tokens, token_digest(token))))
        return token

    def revoke_tokens(self, name: str) -> int:
        user = self._need(name)
        self._put(replace(user, tokens=()))
        return len(user.tokens)

    def _need(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise ConsoleError(f"no console user {name!r}")
        return user

    def _put(self, user: User) -> User:
        users = dict(self.all())
        users[user.name] = user
        self._save(users)
        return user
