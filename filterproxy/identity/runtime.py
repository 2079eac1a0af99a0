"""The identity sources of one running service, built from the ``identity`` section.

A component of ``filterproxy serve`` (started before the resolver and the proxy, so restored
RADIUS sessions are in place for their first query): owns the session map, the accounting
listener and the proxy authenticator, and hands the resolver and proxy their views.
"""

from __future__ import annotations

import logging
from pathlib import Path

from prometheus_client import CollectorRegistry

from filterproxy.config.model import Config
from filterproxy.errors import IdentityError
from filterproxy.identity.book import IdentityBook
from filterproxy.identity.listener import RadiusListener
from filterproxy.identity.metrics import IdentityMetrics
from filterproxy.identity.proxyauth import Checker, ProxyAuthenticator, file_checker
from filterproxy.identity.sessions import SessionMap
from filterproxy.identity.settings import ProxyAuthSettings

log = logging.getLogger(__name__)
SESSIONS_FILE = Path("identity") / "radius-sessions.json"


class IdentityRuntime:
    def __init__(self, config: Config, registry: CollectorRegistry, *, radius: bool = True) -> None:
        """``radius=False``: proxy authentication only (`filterproxy proxy` alone leaves accounting to
        the process that runs the resolver, so two processes never compete for the RADIUS port)."""
        settings = config.identity
        self.radius = radius
        self.metrics = IdentityMetrics(registry)
        self.sessions = SessionMap(settings.radius.max_sessions)
        self.book = IdentityBook(self.sessions)
        self.listener = RadiusListener(settings.radius, self.sessions, self.metrics, config.data_dir / SESSIONS_FILE)
        self.auth: ProxyAuthenticator | None = None
        if settings.proxy_auth.enabled and config.proxy.mode != "explicit":
            log.warning("identity.proxy_auth is ignored in %s proxy mode: clients cannot answer 407 (use RADIUS)",
                        config.proxy.mode)
        elif settings.proxy_auth.enabled:
            self.auth = ProxyAuthenticator(settings.proxy_auth, checker_for(settings.proxy_auth, config.data_dir),
                                           self.metrics)

    @staticmethod
    def wanted(config: Config) -> bool:
        return config.identity.radius.listen is not None or config.identity.proxy_auth.enabled

    async def start(self) -> None:
        if self.radius:
            await self.listener.start()

    async def stop(self) -> None:
        await self.listener.stop()
        if self.auth is not None:
            self.auth.close()


def checker_for(settings: ProxyAuthSettings, data_dir: Path) -> Checker:
    """The password check the settings name: the LDAP directory or the local user file."""
    if settings.source == "file":
        return file_checker(data_dir / settings.users_file)
    from filterproxy.identity.ldap import LdapDirectory

    ldap = settings.ldap
    if ldap is None:  # the settings validator already refuses this
        raise IdentityError("identity.proxy_auth.ldap is not configured")
    try:
        password = (data_dir / ldap.bind_password_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise IdentityError(f"identity.proxy_auth.ldap.bind_password_file: cannot read: {exc}") from exc
    directory = LdapDirectory(ldap, password)

    def check(user: str, secret: str) -> tuple[str, tuple[str, ...]] | None:
        found = directory.authenticate(user, secret)
        return (user, found[1]) if found is not None else None

    return check
