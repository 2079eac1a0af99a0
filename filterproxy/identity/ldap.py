"""LDAP / Active Directory: bind as the service account, find the user, bind as the user, read groups.

Blocking (ldap3's synchronous strategy): the authenticator calls it from worker threads.
Every foreign failure (connection refused, timeout, TLS, a service bind the directory refuses)
becomes :class:`DirectoryUnavailable` here; a wrong password or an unknown user is ``None``.
"""

from __future__ import annotations

import contextlib
import math
import ssl
from typing import Any
from urllib.parse import urlsplit

from filterproxy.errors import DirectoryUnavailable, IdentityError
from filterproxy.identity.settings import LdapSettings


class LdapDirectory:
    def __init__(self, settings: LdapSettings, bind_password: str) -> None:
        import ldap3

        self.settings = settings
        self._bind_password = bind_password
        url = urlsplit(settings.url)
        if url.scheme not in ("ldap", "ldaps") or not url.hostname:
            raise IdentityError(f"identity.proxy_auth.ldap.url: expected ldap://HOST[:PORT] or ldaps://..., got "
                                f"{settings.url!r}")
        tls = None
        if url.scheme == "ldaps" or settings.starttls:
            ca = str(settings.ca_file) if settings.ca_file else None
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca)
        self._server = ldap3.Server(url.hostname, port=url.port, use_ssl=url.scheme == "ldaps", tls=tls,
                                    connect_timeout=settings.timeout, get_info=ldap3.NONE)

    def authenticate(self, user: str, password: str) -> tuple[str, tuple[str, ...]] | None:
        """(user DN, group DNs) when ``password`` is the user's, None when it is not (or no such user)."""
        if not password:  # an empty password is an "unauthenticated bind": LDAP servers accept it
            return None
        found = self.lookup(user)
        if found is None:
            return None
        dn, groups = found
        conn = self._connection(dn, password)
        try:
            ok = self._bind(conn)
        finally:
            _close(conn)
        return (dn, groups) if ok else None

    def lookup(self, user: str) -> tuple[str, tuple[str, ...]] | None:
        """(DN, group DNs) of the one entry the service account finds for ``user``, else None."""
        import ldap3
        from ldap3.utils.conv import escape_filter_chars

        s = self.settings
        conn = self._connection(s.bind_dn, self._bind_password)
        try:
            if not self._bind(conn):
                raise DirectoryUnavailable(f"LDAP {s.url}: the service account {s.bind_dn} cannot bind: "
                                           f"{conn.result.get('description')}")
            query = s.user_filter.replace("{user}", escape_filter_chars(user))
            try:
                conn.search(s.base_dn, query, ldap3.SUBTREE, attributes=[s.group_attribute], size_limit=2)
            except (ldap3.core.exceptions.LDAPException, OSError) as exc:
                raise DirectoryUnavailable(f"LDAP {s.url}: search failed: {exc}") from exc
            entries = list(conn.entries)
        finally:
            _close(conn)
        if len(entries) != 1:  # none, or an ambiguous filter: not this user
            return None
        entry = entries[0]
        values = entry[s.group_attribute].values if s.group_attribute in entry else []
        return entry.entry_dn, tuple(str(v) for v in values)

    def _connection(self, dn: str, password: str) -> Any:
        import ldap3

        return ldap3.Connection(self._server, user=dn, password=password, auto_bind=ldap3.AUTO_BIND_NONE,
                                receive_timeout=math.ceil(self.settings.timeout), read_only=True,
                                raise_exceptions=False)

    def _bind(self, conn: Any) -> bool:
        """Open (with StartTLS when configured) and bind; False for refused credentials."""
        import ldap3

        try:
            conn.open()
            if self.settings.starttls and not conn.start_tls():
                raise DirectoryUnavailable(f"LDAP {self.settings.url}: StartTLS refused")
            return bool(conn.bind())
        except (ldap3.core.exceptions.LDAPException, OSError) as exc:
            raise DirectoryUnavailable(f"LDAP {self.settings.url}: {type(exc).__name__}: {exc}") from exc


def _close(conn: Any) -> None:
    """Unbind, ignoring a connection that already failed (the first error is the one to report)."""
    import ldap3

    with contextlib.suppress(ldap3.core.exceptions.LDAPException, OSError):
        conn.unbind()
