"""The local user file: ``user:scrypt$N$r$p$salt$hash:group;group`` lines (groups may be DNs), for schools without LDAP.

Passwords are hashed by :mod:`filterproxy.passwords` (scrypt, N=2**14, r=8, p=1: about 50 ms and 16 MiB per
check, run in the authenticator's worker threads, never on the event loop). Lines starting
with ``#`` are comments. `filterproxy identity passwd` writes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from filterproxy.errors import IdentityError
from filterproxy.files import write_atomic
from filterproxy.passwords import hash_password


class UserEntry(NamedTuple):
    user: str
    hashed: str
    groups: tuple[str, ...]


def parse_users(text: str, source: str = "<users>") -> dict[str, UserEntry]:
    """User (lower case) -> entry; raises :class:`IdentityError` naming the line of a malformed one."""
    out: dict[str, UserEntry] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1].startswith("scrypt$"):
            raise IdentityError(f"{source}:{number}: expected user:scrypt-hash[:groups]")
        groups = tuple(g.strip() for g in parts[2].split(";") if g.strip()) if len(parts) == 3 else ()
        out[parts[0].lower()] = UserEntry(parts[0], parts[1], groups)
    return out


def format_users(entries: dict[str, UserEntry]) -> str:
    lines = ["# filterproxy proxy users: user:scrypt-hash:group;group (written by `filterproxy identity passwd`)"]
    lines += [f"{e.user}:{e.hashed}:{';'.join(e.groups)}" for e in entries.values()]
    return "\n".join(lines) + "\n"


def load_users(path: Path) -> dict[str, UserEntry]:
    try:
        return parse_users(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise IdentityError(f"cannot read the user file {path}: {exc}") from exc


def set_user(path: Path, user: str, password: str, groups: tuple[str, ...]) -> None:
    """Add or replace one user (the file is rewritten atomically)."""
    if not user or any(c in user for c in ":\n\r") or user != user.strip():
        raise IdentityError(f"user name {user!r}: no colons, line breaks or surrounding spaces")
    if any(c in g for g in groups for c in ":;\n\r"):
        raise IdentityError("directory groups cannot contain colons, semicolons or line breaks")
    entries = load_users(path)
    entries[user.lower()] = UserEntry(user, hash_password(password), groups)
    write_atomic(path, format_users(entries))
