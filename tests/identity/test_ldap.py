"""LDAP against a real slapd: service bind, search, user bind, memberOf; an outage is DirectoryUnavailable."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from filterproxy.errors import DirectoryUnavailable
from filterproxy.identity.ldap import LdapDirectory
from tests.http.pki import make_pki
from tests.identity.conftest import ldap_settings
from tests.identity.slapd import PUPIL_GROUP, SERVICE_PASSWORD, STAFF_GROUP, Slapd
from tests.support import free_port


def directory(url: str, tmp_path: Path, password: str = SERVICE_PASSWORD) -> LdapDirectory:
    return LdapDirectory(ldap_settings(url, tmp_path / "pw"), password)


def test_users_bind_and_read_their_groups(slapd: Slapd, tmp_path: Path) -> None:
    ldap = directory(slapd.url, tmp_path)
    assert ldap.authenticate("t.jones", "staff-pass") == (f"uid=t.jones,ou=people,{STAFF_GROUP.split(',', 2)[2]}",
                                                          (STAFF_GROUP,))
    assert ldap.authenticate("p.smith", "pupil-pass")[1] == (PUPIL_GROUP,)  # type: ignore[index]


@pytest.mark.parametrize(
    ("user", "password"),
    [("t.jones", "wrong"), ("nobody", "staff-pass"), ("t.jones", ""), ("*", "staff-pass"), ("t.jones)(uid=*", "x")],
)
def test_wrong_passwords_unknown_users_and_injection_are_refused(
    slapd: Slapd, tmp_path: Path, user: str, password: str
) -> None:
    assert directory(slapd.url, tmp_path).authenticate(user, password) is None


def test_a_refused_service_account_is_an_outage_with_a_clear_error(slapd: Slapd, tmp_path: Path) -> None:
    with pytest.raises(DirectoryUnavailable, match=r"service account .* cannot bind"):
        directory(slapd.url, tmp_path, "not-the-password").authenticate("t.jones", "staff-pass")


def test_an_unreachable_directory_fails_fast(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(DirectoryUnavailable, match=r"LDAP ldap://127\.0\.0\.1"):
        directory(f"ldap://127.0.0.1:{free_port()}", tmp_path).authenticate("t.jones", "staff-pass")
    assert time.monotonic() - started < 5


def test_starttls_refused_by_a_plain_server_is_an_outage(slapd: Slapd, tmp_path: Path) -> None:
    ldap = LdapDirectory(ldap_settings(slapd.url, tmp_path / "pw", starttls=True), SERVICE_PASSWORD)
    with pytest.raises(DirectoryUnavailable):
        ldap.authenticate("t.jones", "staff-pass")


@pytest.fixture(scope="module")
def tls_slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Slapd, Path, Path]]:
    pki = make_pki(tmp_path_factory.mktemp("ldap-pki"))
    other = make_pki(tmp_path_factory.mktemp("other-pki"))[0]  # a CA that did not sign the server
    server = Slapd(tmp_path_factory.mktemp("slapd-tls"), tls=pki)
    server.start()
    yield server, pki[0], other
    server.stop()


def test_starttls_and_ldaps_verify_the_server(tls_slapd: tuple[Slapd, Path, Path], tmp_path: Path) -> None:
    server, ca, other = tls_slapd
    ldaps = f"ldaps://127.0.0.1:{server.tls_port}"
    for url, extra in ((server.url, {"starttls": True}), (ldaps, {})):
        good = LdapDirectory(ldap_settings(url, tmp_path / "pw", ca_file=ca, **extra), SERVICE_PASSWORD)
        assert good.authenticate("t.jones", "staff-pass") is not None, url
        wrong_ca = LdapDirectory(ldap_settings(url, tmp_path / "pw", ca_file=other, **extra), SERVICE_PASSWORD)
        with pytest.raises(DirectoryUnavailable):
            wrong_ca.authenticate("t.jones", "staff-pass")
