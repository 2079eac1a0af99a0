"""Proxy credentials: Basic parsing, the scrypt user file, the cache, shared checks, deadlines, outages."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from filterproxy.errors import DirectoryUnavailable, IdentityError
from filterproxy.identity.metrics import IdentityMetrics
from filterproxy.identity.model import IdentitySource
from filterproxy.identity.proxyauth import AuthOutcome, ProxyAuthenticator, file_checker, parse_basic
from filterproxy.identity.settings import ProxyAuthSettings
from filterproxy.identity.userfile import load_users, parse_users, set_user
from filterproxy.passwords import hash_password, verify_password


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_parse_basic() -> None:
    assert parse_basic(basic("t.jones", "pa:ss")) == ("t.jones", "pa:ss")
    assert parse_basic("basic " + base64.b64encode(b"x:").decode()) == ("x", "")
    for bad in ("Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(), "Negotiate YII="):
        assert parse_basic(bad) is None


def test_scrypt_hashes_verify_and_are_salted() -> None:
    one, two = hash_password("secret", n=2**10), hash_password("secret", n=2**10)
    assert one != two and verify_password("secret", one) and not verify_password("Secret", one)
    assert not verify_password("secret", "scrypt$bad") and not verify_password("secret", "md5$x$y$z$a$b")


def test_user_file_round_trip_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "identity" / "users"
    set_user(path, "T.Jones", "staff-pass", ("staff",))
    set_user(path, "p.smith", "pupil-pass", ())
    set_user(path, "t.jones", "new-pass", ("staff", "cn=it,dc=school"))  # replaces, case-insensitively
    users = load_users(path)
    assert sorted(users) == ["p.smith", "t.jones"] and users["t.jones"].groups == ("staff", "cn=it,dc=school")
    assert verify_password("new-pass", users["t.jones"].hashed)
    with pytest.raises(IdentityError, match="users:2"):
        parse_users("# comment\nbroken-line\n", "users")
    with pytest.raises(IdentityError, match="colons"):
        set_user(path, "a:b", "x", ())


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def authenticator(checker: object, **settings: object) -> tuple[ProxyAuthenticator, CollectorRegistry]:
    registry = CollectorRegistry()
    config = ProxyAuthSettings.model_validate({"enabled": True, **settings})
    return ProxyAuthenticator(config, checker, IdentityMetrics(registry)), registry  # type: ignore[arg-type]


def outcome(registry: CollectorRegistry, name: str) -> float:
    return registry.get_sample_value("filterproxy_identity_proxy_auth_total", {"outcome": name}) or 0.0


def test_file_checker_and_cache(tmp_path: Path) -> None:
    path = tmp_path / "users"
    set_user(path, "t.jones", "staff-pass", ("staff",))
    auth, registry = authenticator(file_checker(path))

    async def scenario() -> list[AuthOutcome]:
        results = [await auth.check(basic("t.jones", "staff-pass")), await auth.check(basic("T.JONES", "staff-pass")),
                   await auth.check(basic("t.jones", "wrong")), await auth.check(basic("ghost", "x")),
                   await auth.check("Digest abc")]
        ok = results[0].identity
        assert ok is not None
        assert (ok.user, ok.directory, ok.source) == ("t.jones", ("staff",), IdentitySource.PROXY_AUTH)
        return [r.outcome for r in results]

    assert run(scenario()) == [AuthOutcome.OK, AuthOutcome.OK, AuthOutcome.REJECTED, AuthOutcome.REJECTED,
                               AuthOutcome.REJECTED]
    assert (outcome(registry, "ok"), outcome(registry, "cached"), outcome(registry, "rejected")) == (1, 1, 3)
    auth.close()


def test_cache_is_bounded_least_recent_first() -> None:
    calls: list[str] = []

    def checker(user: str, password: str) -> tuple[str, tuple[str, ...]]:
        calls.append(user)
        return user, ()

    auth, _ = authenticator(checker, cache_size=2)

    async def scenario() -> None:
        for user in ("a", "b", "a", "c", "a", "b"):  # c evicts b (a was used more recently); b is checked again
            await auth.check(basic(user, "pw"))

    run(scenario())
    assert calls == ["a", "b", "c", "b"]
    auth.close()


def test_concurrent_checks_share_one_directory_call() -> None:
    calls: list[str] = []
    gate = threading.Event()

    def checker(user: str, password: str) -> tuple[str, tuple[str, ...]]:
        calls.append(user)
        gate.wait(5)
        return user, ()

    auth, _ = authenticator(checker)

    async def scenario() -> list[AuthOutcome]:
        tasks = [asyncio.ensure_future(auth.check(basic("t.jones", "pw"))) for _ in range(6)]
        await asyncio.sleep(0.05)
        gate.set()
        return [r.outcome for r in await asyncio.gather(*tasks)]

    assert run(scenario()) == [AuthOutcome.OK] * 6 and calls == ["t.jones"]
    auth.close()


def test_outage_and_deadline_are_unavailable_and_never_block_the_loop() -> None:
    def down(user: str, password: str) -> None:
        raise DirectoryUnavailable("LDAP ldap://dc1: connection refused")

    def hangs(user: str, password: str) -> None:
        time.sleep(3)

    auth, registry = authenticator(down)
    result = run(auth.check(basic("t.jones", "pw")))
    assert result.outcome is AuthOutcome.UNAVAILABLE and "connection refused" in result.error  # type: ignore[union-attr, operator]
    calls: list[str] = []
    auth.checker = lambda user, password: calls.append(user)  # type: ignore[assignment, func-returns-value, return-value]
    again = run(auth.check(basic("a.n.other", "pw")))  # within the retry interval: no directory call, no wait
    assert again.outcome is AuthOutcome.UNAVAILABLE and calls == []  # type: ignore[union-attr]
    slow, slow_registry = authenticator(hangs)
    slow.deadline = 0.3

    async def scenario() -> tuple[object, float, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.ensure_future(ticker())
        started = time.monotonic()
        result = await slow.check(basic("t.jones", "pw"))
        task.cancel()
        return result, time.monotonic() - started, ticks

    result, took, ticks = run(scenario())  # type: ignore[misc]
    assert result.outcome is AuthOutcome.UNAVAILABLE and "did not answer" in result.error  # type: ignore[attr-defined]
    assert took < 1.0 and ticks > 10  # the loop kept running while the directory hung
    assert outcome(registry, "directory_error") == 2 and outcome(slow_registry, "directory_error") == 1
    auth.close()
    slow.close()
