"""Enabling and disabling list sources from the console: admin only, CSRF, a reason, audited by name."""

from __future__ import annotations

import json

import httpx

from filterproxy.lists.overrides import override_path
from tests.console.conftest import Console, csrf_of
from tests.console.test_api import bearer


def audit(console: Console) -> list[dict[str, object]]:
    path = console.config.data_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def verdict(console: Console, site: str) -> str:
    with httpx.Client(base_url=console.url, headers=bearer(console, "ict"), timeout=20) as client:
        return str(client.get("/api/check", params={"site": site}).json()["action"])


def test_admin_disables_and_enables_a_source_with_a_reason(console: Console) -> None:
    client = console.login("ict")
    page = client.get("/sources").text
    assert page.count('action="/sources/enable"') == 3 and ">Disable</button>" in page
    token = csrf_of(page)
    form = {"source": "t/gambling", "state": "disable", "reason": "betting lessons this week"}
    assert client.post("/sources/enable", data=form).status_code == 403  # no csrf_token
    missing = client.post("/sources/enable", data={**form, "reason": " ", "csrf_token": token})
    assert missing.status_code == 400 and "give a reason" in missing.text
    typo = client.post("/sources/enable", data={**form, "source": "t/gamblin", "csrf_token": token})
    assert typo.status_code == 400 and "did you mean &#39;t/gambling&#39;" in typo.text
    assert not override_path(console.config.data_dir).exists()

    answer = client.post("/sources/enable", data={**form, "csrf_token": token})
    assert answer.status_code == 303
    page = client.get(answer.headers["location"]).text
    assert "t/gambling disabled; the service reloads its lists" in page
    assert "disabled <span class=\"muted\">(changed here, not in sources.yaml)</span>" in page
    assert json.loads(override_path(console.config.data_dir).read_text()) == {"t/gambling": False}
    assert verdict(console, "www.bet.example") == "allow"
    rows = {s["id"]: s for s in client.get("/api/sources").json()}
    assert (rows["t/gambling"]["enabled"], rows["t/gambling"]["overridden"]) == (False, True)

    answer = client.post("/sources/enable", data={"source": "t/gambling", "state": "enable",
                                                  "reason": "lessons over", "csrf_token": token})
    assert answer.status_code == 303
    assert verdict(console, "www.bet.example") == "block"
    assert json.loads(override_path(console.config.data_dir).read_text()) == {}
    records = [r for r in audit(console) if str(r["action"]).startswith("source.")]
    assert [(r["user"], r["action"], r["entries"], r["reason"]) for r in records] == [
        ("ict", "source.disable", ["t/gambling"], "betting lessons this week"),
        ("ict", "source.enable", ["t/gambling"], "lessons over"),
    ]


def test_the_api_changes_sources_for_admins_only(console: Console) -> None:
    with httpx.Client(base_url=console.url, headers=bearer(console, "ict"), timeout=20) as client:
        body = {"ids": ["t/adult"], "enabled": False, "reason": "api test"}
        assert client.post("/api/sources", json=body).json() == [{"id": "t/adult", "enabled": False, "changed": True}]
        assert verdict(console, "www.adult.example") == "allow"
        wrong = client.post("/api/sources", json={**body, "ids": ["t/adul"]})
        assert wrong.status_code == 400 and "did you mean 't/adult'" in wrong.json()["error"]
        assert client.post("/api/sources", json={**body, "enabled": "no"}).status_code == 400
        assert client.post("/api/sources", json={**body, "enabled": True}).json()[0]["changed"] is True
    assert verdict(console, "www.adult.example") == "block"
    with httpx.Client(base_url=console.url, headers=bearer(console, "dsl"), timeout=20) as client:
        refused = client.post("/api/sources", json={"ids": ["t/adult"], "enabled": False, "reason": "x"})
        assert refused.status_code == 403 and "admin" in refused.json()["error"]


def test_safeguarding_sees_the_state_but_no_buttons_and_is_refused(console: Console) -> None:
    client = console.login("dsl")
    page = client.get("/sources").text
    assert "t/gambling" in page and 'action="/sources/enable"' not in page
    answer = client.post("/sources/enable", data={"source": "t/gambling", "state": "disable", "reason": "x",
                                                  "csrf_token": csrf_of(page)})
    assert answer.status_code == 403 and "admin role" in answer.text
    assert verdict(console, "www.bet.example") == "block"
    assert any(r["action"] == "console.refused" and r["user"] == "dsl" and r.get("permission") == "sources.enable"
               for r in audit(console))
