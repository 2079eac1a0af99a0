"""Dropping root after binding port 53."""

from __future__ import annotations

import logging
import os
import pwd

from filterproxy.errors import DnsError

log = logging.getLogger(__name__)


def drop_privileges(user: str | None) -> bool:
    """Become ``user`` (and its primary group) if we are root; True if privileges were dropped."""
    if user is None or os.geteuid() != 0:
        return False
    try:
        entry = pwd.getpwnam(user)
    except KeyError as exc:
        raise DnsError(f"cannot drop privileges: no user {user!r}") from exc
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    log.info("dropped privileges to %s (uid %d)", user, entry.pw_uid)
    return True
