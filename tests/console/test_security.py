"""The console's doors: nothing but sign-in and the public request pages without a session, CSRF on every
POST, cookie flags, lock-out after failed sign-ins, roles enforced on the server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from starlette.routing import Mount, Route

from filterproxy.console.app import create_app
from filterproxy.console.server import ConsoleServer
from filterproxy.console.sessions import COOKIE, Session
from filterproxy.console.web import is_public
from tests.console.conftest import PASSWORDS, Console, csrf_of, make_config
from tests.support import Loop

PUBLIC_GET = {"/login", "/request", "/request/status"}


def all_routes(console: Console) -> list[tuple[str, str]]:
    app = create_app(console.server.state)
    found = []
    for route in app.routes:
        if isinstance(route, Route):
            path = route.path.replace("{id:int}", "1")
            found.extend((method, path) for method in sorted(route.methods or ()) if method != "HEAD")
        else:
            assert isinstance(route, Mount) and route.path == "/static"
    assert len(found) >= 25
    return found


def test_no_route_but_sign_in_and_public_request_pages_answers_without_a_session(console: Console) -> None:
    with console.client() as client:
        for method, path in all_routes(console):
            answer = client.request(method, path)
            if method == "GET" and path in PUBLIC_GET:
                assert answer.status_code == 200, path
            elif method == "POST" and is_public(path):
                assert answer.status_code == 403, path  # public forms still need the CSRF token
            elif path.startswith("/api/"):
                assert answer.status_code == 401, (method, path)
                assert answer.json() == {"error": "authentication required"}
            else:
                assert answer.status_code == 302, (method, path)
                assert answer.headers["location"].startswith("/login?next=")
        assert client.get("/static/console.css").status_code == 200
        assert client.get("/no/such/page").status_code == 302


def test_posts_without_the_csrf_token_are_refused(console: Console) -> None:
    client = console.login("ict")
    token = csrf_of(client.get("/").text)
    for method, path in all_routes(console):
        if method != "POST":
            continue
        assert client.post(path, data={"verb": "allow", "names": "x.example", "reason": "r"}).status_code == 403, path
        assert client.post(path, data={"csrf_token": "forged", "verb": "allow"}).status_code == 403, path
        assert client.post(path, headers={"X-CSRF-Token": token + "x"}, json={}).status_code == 403, path
    allow_file = console.config.data_dir / "local" / "allow.txt"
    assert not allow_file.exists() or "x.example" not in allow_file.read_text()
    done = client.post("/lists/edit", data={"csrf_token": token, "verb": "allow", "names": "ok-csrf.example",
                                            "reason": "csrf test"})
    assert done.status_code == 303 and "ok-csrf.example" in allow_file.read_text()


def test_session_cookie_flags(console: Console) -> None:
    client = console.client()
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"csrf_token": token, "username": "ict", "password": PASSWORDS["ict"]})
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert "secure" not in flags  # plain http on loopback by default
    max_age = next(int(f.split("=")[1]) for f in flags if f.startswith("max-age="))
    assert console.config.console.session_minutes * 60 - 5 <= max_age <= console.config.console.session_minutes * 60
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_secure_flag_behind_tls(tmp_path: Path, loop: Loop) -> None:
    config = make_config(tmp_path, "  public_url: https://console.school.example\n")
    assert config.console.cookie_secure()
    server = ConsoleServer(config)
    loop.run(server.start())
    try:
        cookie = httpx.get(f"{server.url}/login", timeout=10).headers["set-cookie"].lower()
    finally:
        loop.run(server.stop())
    assert "; secure" in cookie and "; httponly" in cookie and "samesite=strict" in cookie


def test_forged_or_tampered_cookie_is_anonymous(console: Console) -> None:
    signer = console.server.state.signer
    real = signer.dump(Session.for_user("ict", 1, 600))
    body, mac = real.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    for value in (forged, "garbage", real + "x", body + ".", ""):
        answer = httpx.get(f"{console.url}/api/me", cookies={COOKIE: value}, timeout=10)
        assert answer.status_code == 401, value
    assert httpx.get(f"{console.url}/api/me", cookies={COOKIE: real}, timeout=10).json()["name"] == "ict"
    stale = signer.dump(Session.for_user("ict", 0, 600))  # signed before a password change
    assert httpx.get(f"{console.url}/api/me", cookies={COOKIE: stale}, timeout=10).status_code == 401


def test_failed_sign_ins_lock_the_name_with_a_clear_message(console: Console) -> None:
    client = console.client()
    limit = console.config.console.login_attempts
    for _ in range(limit):
        token = csrf_of(client.get("/login").text)
        wrong = client.post("/login", data={"csrf_token": token, "username": "dsl", "password": "wrong-password"})
        assert wrong.status_code == 401 and "do not match" in wrong.text
    token = csrf_of(client.get("/login").text)
    locked = client.post("/login", data={"csrf_token": token, "username": "dsl", "password": PASSWORDS["dsl"]})
    assert locked.status_code == 429
    assert re.search(r"locked for about \d+ minute", locked.text), locked.text
    audit = [json.loads(line) for line in (console.config.data_dir / "audit.jsonl").read_text().splitlines()]
    assert sum(1 for r in audit if r["action"] == "console.login.failed" and r["user"] == "dsl") >= limit
    assert any(r["action"] == "console.login.locked" and r["user"] == "dsl" for r in audit)
    console.server.state.logins.by_user.reset("dsl")
    console.server.state.logins.by_address.reset("127.0.0.1")


def test_viewer_is_refused_what_their_role_does_not_allow(console: Console) -> None:
    client = console.login("gov")
    home = client.get("/")
    assert home.status_code == 200 and 'href="/incidents"' not in home.text and 'href="/review"' in home.text
    token = csrf_of(home.text)
    assert client.get("/incidents").status_code == 403
    refused = client.post("/lists/edit", data={"csrf_token": token, "verb": "allow", "names": "gov.example",
                                               "reason": "governor wants it"})
    assert refused.status_code == 403 and "Your role (viewer) cannot do this" in refused.text
    assert client.get("/api/incidents").status_code == 403
    assert client.get("/review").status_code == 200
    audit = (console.config.data_dir / "audit.jsonl").read_text()
    assert '"user": "gov", "action": "console.refused"' in audit


def test_safeguarding_reads_lists_but_cannot_change_them(console: Console) -> None:
    client = console.login("dsl")
    page = client.get("/lists")
    assert page.status_code == 200 and 'id="lists-form"' not in page.text
    refused = client.post("/lists/edit", data={"csrf_token": csrf_of(page.text), "verb": "allow",
                                               "names": "dsl.example", "reason": "r"})
    assert refused.status_code == 403
    assert client.get("/incidents").status_code == 200
    assert client.get("/requests").status_code == 200


def test_next_after_sign_in_stays_on_the_console(console: Console) -> None:
    client = console.client()
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"csrf_token": token, "username": "ict", "password": PASSWORDS["ict"],
                                         "next": "//evil.example/"})
    assert answer.headers["location"] == "/"


def test_oversized_posts_are_refused_before_they_are_read(console: Console) -> None:
    client = console.login("ict")
    token = csrf_of(client.get("/").text)
    answer = client.post("/lists/edit", data={"csrf_token": token, "verb": "allow", "names": "big.example",
                                              "reason": "x" * 300_000})
    assert answer.status_code == 413


def test_an_invalid_bearer_token_does_not_skip_the_csrf_check(console: Console) -> None:
    with console.client() as client:
        client.get("/login")
        answer = client.post("/login", headers={"Authorization": "Bearer fpc_forged"},
                             data={"username": "ict", "password": PASSWORDS["ict"]})
    assert answer.status_code == 403
