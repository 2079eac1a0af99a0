from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from filterproxy.identity.settings import LdapSettings
from tests.identity.slapd import SERVICE, SUFFIX, Slapd


@pytest.fixture(scope="module")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    server = Slapd(tmp_path_factory.mktemp("slapd"))
    server.start()
    yield server
    server.stop()


def ldap_settings(url: str, password_file: Path, **extra: object) -> LdapSettings:
    return LdapSettings.model_validate({"url": url, "bind_dn": SERVICE, "bind_password_file": password_file,
                                        "base_dn": f"ou=people,{SUFFIX}", "timeout": 2.0, **extra})
