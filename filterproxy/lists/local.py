"""The school's local lists: ``allow.txt`` and ``deny/<category>.txt`` under the local directory.

Edits come from the ICT manager's CLI; every edit (and every refused edit) appends one JSON
line to ``<data_dir>/audit.jsonl``: when, who (OS user), what, why. The running service notices
the changed files and rebuilds the small local overlay in milliseconds; the big category index
is untouched.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from filterproxy.classify.classifier import LocalLists
from filterproxy.classify.normalise import normalise_name
from filterproxy.errors import ConfigError
from filterproxy.files import append_line, write_atomic
from filterproxy.model import Category

AuditAction = Literal["add", "remove", "allow", "unallow", "refused", "source.enable", "source.disable"]
ALLOW_FILE = "allow.txt"
DENY_DIR = "deny"
GROUP_ALLOW_DIR = "allow-groups"
_HEADER = "# filterproxy local list: one domain per line (covers its subdomains). Edit with the CLI.\n"


@dataclass(frozen=True, slots=True)
class LocalFiles:
    """Where the local lists and the audit log live."""

    local_dir: Path
    audit_log: Path

    @property
    def allow_file(self) -> Path:
        return self.local_dir / ALLOW_FILE

    def deny_file(self, category: Category) -> Path:
        return self.local_dir / DENY_DIR / f"{category.value}.txt"

    def group_allow_file(self, group: str) -> Path:
        """Names allowed for one group only (an unblock request approved for that group)."""
        return self.local_dir / GROUP_ALLOW_DIR / f"{group}.txt"

    def all_files(self) -> list[Path]:
        deny = sorted((self.local_dir / DENY_DIR).glob("*.txt")) if (self.local_dir / DENY_DIR).is_dir() else []
        groups = self.local_dir / GROUP_ALLOW_DIR
        return [self.allow_file, *deny, *(sorted(groups.glob("*.txt")) if groups.is_dir() else [])]


def read_names(path: Path) -> list[str]:
    """Names in a local list file; a malformed line is a :class:`ConfigError` naming file and line."""
    if not path.exists():
        return []
    names = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            names.append(normalise_name(text.removeprefix("*.")))
        except ValueError as exc:
            raise ConfigError(f"{path}:{number}: {exc}") from None
    return names


def load_local(files: LocalFiles) -> LocalLists:
    """Read the local allow and deny lists into a :class:`LocalLists` overlay."""
    deny: dict[str, Category] = {}
    # `illegal` first: a name on it and on another category's list is illegal (never overridden)
    for category in sorted(Category, key=lambda c: c is not Category.ILLEGAL):
        for name in read_names(files.deny_file(category)):
            deny.setdefault(name, category)
    groups = files.local_dir / GROUP_ALLOW_DIR
    group_allow = {
        path.stem: frozenset(names)
        for path in (sorted(groups.glob("*.txt")) if groups.is_dir() else [])
        if (names := read_names(path))
    }
    return LocalLists(allow=frozenset(read_names(files.allow_file)), deny=deny, group_allow=group_allow)


def edit_list(path: Path, names: Iterable[str], *, add: bool) -> list[str]:
    """Add or remove names (already normalised) in ``path``; return the names that changed it."""
    current = read_names(path)
    present = set(current)
    if add:
        changed = [n for n in dict.fromkeys(names) if n not in present]
        result = current + changed
    else:
        gone = set(names) & present
        changed = [n for n in dict.fromkeys(names) if n in gone]
        result = [n for n in current if n not in gone]
    if changed:
        write_atomic(path, _HEADER + "".join(f"{n}\n" for n in result))
    return changed


def audit(files: LocalFiles, action: AuditAction, entries: Sequence[str], reason: str,
          category: Category | None = None, detail: str = "", user: str | None = None) -> None:
    """Append one audit record (fsync'd: the audit trail is evidence for the annual review).

    ``user`` is the person acting (the console passes its signed-in person); default: the OS user.
    """
    record: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": user or _user(),
        "action": action,
        "category": category.value if category else None,
        "entries": list(entries),
        "reason": reason,
    }
    if detail:
        record["detail"] = detail
    append_line(files.audit_log, json.dumps(record))


def _user() -> str:
    for var in ("SUDO_USER", "USER", "LOGNAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"


