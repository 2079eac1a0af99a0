"""Password hashes, signed sessions, sliding-window limits and the people file, each alone."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from filterproxy.console.limits import LoginLimiter, WindowLimiter
from filterproxy.console.sessions import Session, Signer, load_secret
from filterproxy.console.users import Role, UserStore, token_digest
from filterproxy.errors import ConsoleError
from filterproxy.passwords import check_strength, hash_password, verify_password


def test_scrypt_hash_verifies_only_its_password_and_is_salted() -> None:
    first, second = hash_password("a long pass phrase"), hash_password("a long pass phrase")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert verify_password("a long pass phrase", first)
    assert not verify_password("a long pass phrasE", first)
    assert not verify_password("x", "pbkdf2$1$2$3")
    assert not verify_password("x", "scrypt$oops")


def test_a_check_costs_real_time() -> None:
    stored = hash_password("a long pass phrase")
    started = time.perf_counter()
    verify_password("wrong guess", stored)
    assert time.perf_counter() - started > 0.005  # memory-hard: ~16 MiB, tens of milliseconds


@pytest.mark.parametrize(("password", "weak"), [("short", True), ("aaaaaaaaaaaa", True), ("ten chars!", False)])
def test_password_strength(password: str, weak: bool) -> None:
    assert (check_strength(password) is not None) is weak


def test_signer_round_trip_and_refusals(tmp_path: Path) -> None:
    key = load_secret(tmp_path)
    assert load_secret(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "console" / "secret.key").stat().st_mode) == 0o600
    signer = Signer(key)
    session = Session.for_user("ict", 3, 60)
    loaded = signer.load(signer.dump(session))
    assert loaded is not None and (loaded.user, loaded.generation, loaded.csrf) == ("ict", 3, session.csrf)
    assert Signer(b"k" * 32).load(signer.dump(session)) is None
    assert signer.load(signer.dump(Session("ict", 3, time.time() - 1, "c"))) is None


def test_window_limiter_locks_and_forgets() -> None:
    now = [1000.0]
    limiter = WindowLimiter(3, 60, clock=lambda: now[0], max_keys=2)
    for _ in range(3):
        assert limiter.blocked_for("a") == 0
        limiter.hit("a")
    assert limiter.blocked_for("a") == pytest.approx(60)
    now[0] += 30
    assert limiter.blocked_for("a") == pytest.approx(30)
    now[0] += 31
    assert limiter.blocked_for("a") == 0
    limiter.hit("b")
    limiter.hit("c")
    limiter.hit("d")
    assert len(limiter._events) <= 2


def test_login_limiter_by_address_and_by_user() -> None:
    now = [0.0]
    limiter = LoginLimiter(2, 900, clock=lambda: now[0])
    limiter.failed("10.0.0.1", "Ict")
    limiter.failed("10.0.0.2", "ict")
    assert limiter.locked_for("10.0.0.3", "ICT") > 0  # per user, whatever the address
    limiter.failed("10.0.0.9", "a")
    limiter.failed("10.0.0.9", "b")
    assert limiter.locked_for("10.0.0.9", "c") > 0  # per address, whatever the name


def test_user_store(tmp_path: Path) -> None:
    store = UserStore(tmp_path)
    store.add("ict", Role.ADMIN, "scrypt$x")
    with pytest.raises(ConsoleError, match="exists"):
        store.add("ict", Role.VIEWER, "scrypt$y")
    with pytest.raises(ConsoleError, match="a name is"):
        store.add("bad name", Role.VIEWER, "h")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    token = store.new_token("ict")
    raw = store.path.read_text()
    assert token not in raw and token_digest(token) in raw
    assert store.by_token(token) == store.get("ict") and store.by_token(token + "x") is None
    assert store.set_password("ict", "scrypt$z").generation == 2
    assert UserStore(tmp_path).get("ict") == store.get("ict")
    store.remove("ict")
    assert json.loads(store.path.read_text()) == {"users": []}
    with pytest.raises(ConsoleError):
        store.remove("ict")
