"""A person's directory groups, for `filterproxy check --user`: from every configured source.

The proxy-auth source (the LDAP directory, searched with the service account, or the local
user file) and the live RADIUS sessions saved in data_dir (their Class / Filter-Id values).
No password is checked: this explains what the policy would do, it signs nobody in.
"""

from __future__ import annotations

from typing import NamedTuple

from filterproxy.config.model import Config
from filterproxy.identity.runtime import SESSIONS_FILE, checker_for
from filterproxy.identity.sessions import SessionMap
from filterproxy.identity.userfile import load_users


class Found(NamedTuple):
    source: str  # ldap | file | radius
    directory: tuple[str, ...]
    detail: str  # e.g. the user's DN, or the address of a RADIUS session


def directory_of(config: Config, user: str) -> list[Found]:
    """Where ``user`` is known and with which directory groups (raises IdentityError on an outage)."""
    found: list[Found] = []
    auth = config.identity.proxy_auth
    if auth.source == "file":
        entry = load_users(config.data_dir / auth.users_file).get(user.lower())
        if entry is not None:
            found.append(Found("file", entry.groups, str(config.data_dir / auth.users_file)))
    elif auth.ldap is not None:
        checker_for(auth, config.data_dir)  # validates the settings and the password file
        from filterproxy.identity.ldap import LdapDirectory

        password = (config.data_dir / auth.ldap.bind_password_file).read_text(encoding="utf-8").strip()
        entry_ldap = LdapDirectory(auth.ldap, password).lookup(user)
        if entry_ldap is not None:
            found.append(Found("ldap", entry_ldap[1], entry_ldap[0]))
    sessions = SessionMap(config.identity.radius.max_sessions)
    sessions.load(config.data_dir / SESSIONS_FILE)
    for address, session in sessions.by_user(user):
        found.append(Found("radius", session.identity.directory, f"session at {address}"))
    return found
