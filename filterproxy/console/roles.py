"""Who may do what: each permission names the least role that has it (viewer < safeguarding < admin)."""

from __future__ import annotations

from filterproxy.console.users import Role

_RANK = {Role.VIEWER: 0, Role.SAFEGUARDING: 1, Role.ADMIN: 2}

PERMISSIONS: dict[str, Role] = {
    "dashboard": Role.VIEWER,
    "review": Role.VIEWER,
    "selftest": Role.VIEWER,
    "incidents": Role.SAFEGUARDING,
    "incidents.move": Role.SAFEGUARDING,
    "requests": Role.SAFEGUARDING,
    "requests.decide": Role.SAFEGUARDING,
    "lists": Role.SAFEGUARDING,
    "check": Role.SAFEGUARDING,
    "sources": Role.SAFEGUARDING,
    "categorised": Role.SAFEGUARDING,
    "lists.edit": Role.ADMIN,
    "sources.update": Role.ADMIN,
    "sources.enable": Role.ADMIN,
    "categorised.decide": Role.ADMIN,
    "selftest.run": Role.ADMIN,
}


def allowed(role: Role, permission: str) -> bool:
    return _RANK[role] >= _RANK[PERMISSIONS[permission]]
