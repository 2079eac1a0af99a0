"""The JSON API: session or API token, roles, CSRF header for cookie POSTs, list edits through the audited path."""

from __future__ import annotations

import httpx

from filterproxy.console.users import UserStore
from tests.console.conftest import Console, csrf_of


def bearer(console: Console, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {UserStore(console.config.data_dir).new_token(name)}"}


def test_api_token_acts_with_its_persons_role(console: Console) -> None:
    headers = bearer(console, "ict")
    with httpx.Client(base_url=console.url, headers=headers, timeout=20) as client:
        assert client.get("/api/me").json() == {"name": "ict", "role": "admin"}
        assert client.get("/api/incidents").json() == []
        sources = client.get("/api/sources").json()
        assert {s["id"] for s in sources} == {"t/gambling", "t/adult", "t/illegal"}
        assert all(s["entries"] == 1 for s in sources)
        check = client.get("/api/check", params={"site": "www.bet.example"}).json()
        assert (check["action"], check["category"], check["source"], check["rule"]) == (
            "block", "gambling", "t/gambling", "bet.example")
        assert client.post("/api/lists", json={"verb": "add", "names": ["quiz.example"], "category": "social",
                                               "reason": "exam week"}).json()["changed"] == ["quiz.example"]
        assert "quiz.example" in client.get("/api/lists").json()["social"]
        refused = client.post("/api/lists", json={"verb": "allow", "names": ["abuse.example"], "reason": "x"})
        assert refused.status_code == 403 and "illegal" in refused.json()["error"]
        assert client.post("/api/lists", json={"verb": "allow", "names": ["a.example"]}).status_code == 400
        assert client.get("/api/dashboard").json()["waiting"]["new"] == 0
        assert client.post("/api/requests/999", json={"decision": "decline", "note": "n"}).status_code == 400
    audit = (console.config.data_dir / "audit.jsonl").read_text()
    assert '"user": "ict", "action": "add", "category": "social"' in audit


def test_wrong_or_missing_token_is_401(console: Console) -> None:
    for headers in ({"Authorization": "Bearer fpc_nope"}, {"Authorization": "Basic aWN0OnB3"}, {}):
        assert httpx.get(f"{console.url}/api/me", headers=headers, timeout=10).status_code == 401


def test_viewer_token_cannot_read_incidents(console: Console) -> None:
    headers = bearer(console, "gov")
    answer = httpx.get(f"{console.url}/api/incidents", headers=headers, timeout=10)
    assert answer.status_code == 403 and "viewer" in answer.json()["error"]
    assert httpx.get(f"{console.url}/api/dashboard", headers=headers, timeout=10).status_code == 200


def test_session_posts_to_the_api_need_the_csrf_header(console: Console) -> None:
    client = console.login("ict")
    token = csrf_of(client.get("/").text)
    body = {"verb": "allow", "names": ["header.example"], "reason": "csrf header"}
    assert client.post("/api/lists", json=body).status_code == 403
    assert client.post("/api/lists", json=body, headers={"X-CSRF-Token": token}).json()["changed"] == [
        "header.example"]
