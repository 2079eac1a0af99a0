"""Pages and API answers over real incidents in the store: queue filters, the lifecycle's required notes,
the dashboard's figures, the annual review download."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from filterproxy.console.users import UserStore
from filterproxy.incidents.fold import fold
from filterproxy.incidents.store import open_store
from filterproxy.model import Category
from tests.console.conftest import Console, csrf_of
from tests.incidents.conftest import make_event


def record(console: Console, events: list[object]) -> None:
    store = open_store(console.config.incidents, console.config.data_dir)
    try:
        batch = list(enumerate(events, start=1))
        groups = fold(batch, 0.0, lambda e: "high" if e.verdict.category is Category.ADULT else "low",  # type: ignore[attr-defined]
                      lambda c: "lab-pc-07" if c == "10.0.0.7" else None)
        store.write(groups, "node-a", len(batch), len(batch))
    finally:
        store.close()


def api(console: Console, name: str) -> httpx.Client:
    token = UserStore(console.config.data_dir).new_token(name)
    return httpx.Client(base_url=console.url, headers={"Authorization": f"Bearer {token}"}, timeout=20)


def test_queue_filters_and_lifecycle(console: Console) -> None:
    old = datetime.now(UTC) - timedelta(days=30)
    record(console, [
        make_event(client="10.0.0.7", site="bet.example", user="pupil7"),
        make_event(client="10.0.0.8", site="adult.example", category=Category.ADULT),
        make_event(client="10.0.0.9", site="old-bet.example", at=old),
    ])
    with api(console, "dsl") as client:
        def hosts(**params: str) -> set[str]:
            return {i["host"] for i in client.get("/api/incidents", params=params).json()}

        assert {"www.bet.example", "www.adult.example", "www.old-bet.example"} <= hosts()
        assert hosts(category="adult") == {"www.adult.example"}
        assert hosts(severity="high") == {"www.adult.example"}
        assert hosts(who="lab-pc") == {"www.bet.example"} == hosts(who="PUPIL7")
        assert "www.old-bet.example" not in hosts(since=(datetime.now(UTC) - timedelta(days=1)).date().isoformat())
        assert hosts(group="nobody") == set()
        assert client.get("/api/incidents", params={"since": "yesterday"}).status_code == 400
        target = client.get("/api/incidents", params={"category": "adult"}).json()[0]["id"]
        assert client.post(f"/api/incidents/{target}/move", json={"move": "triage", "note": " "}).status_code == 400
        moved = client.post(f"/api/incidents/{target}/move", json={"move": "escalate", "note": "to the LADO"})
        assert moved.json()["status"] == "escalated" and moved.json()["transitions"][0]["by"] == "dsl"
        back = client.post(f"/api/incidents/{target}/move", json={"move": "triage", "note": "oops"})
        assert back.status_code == 400 and "back to triaged" in back.json()["error"]
        assert hosts(status="escalated") == {"www.adult.example"}
        assert "www.adult.example" in hosts(status="open")
        assert client.get("/api/incidents/99999").status_code == 404
        page = client.get("/incidents", params={"status": "", "category": "gambling"}).text
        assert "www.bet.example" in page and "www.adult.example" not in page
        assert "to the LADO" in client.get(f"/incidents/{target}").text


def test_dashboard_counts_blocks_today_by_category_and_group(console: Console) -> None:
    with api(console, "gov") as client:
        before = client.get("/api/dashboard").json()
    record(console, [make_event(client="10.0.0.50", site="more-bet.example")])
    with api(console, "gov") as client:
        after = client.get("/api/dashboard").json()
        page = client.get("/").text
    gambling = lambda d: dict(d["today"]["by_category"]).get("gambling", 0)  # noqa: E731
    assert gambling(after) == gambling(before) + 1
    assert dict(after["week"]["by_group"])["pupils"] >= 1
    assert after["waiting"]["new"] == before["waiting"]["new"] + 1
    assert "incident(s) waiting for triage" in page


def test_review_download(console: Console) -> None:
    with api(console, "gov") as client:
        today = datetime.now(UTC).date()
        answer = client.get("/review/download", params={"from": (today - timedelta(days=30)).isoformat(),
                                                        "to": today.isoformat()})
        assert answer.status_code == 200
        assert answer.headers["content-disposition"].startswith('attachment; filename="filterproxy-review-')
        assert "<html" in answer.text.lower() and "review" in answer.text.lower()
        bad = client.get("/review/download", params={"from": today.isoformat(), "to": "2020-01-01"})
        assert bad.status_code == 400 and "before the start" in bad.text


def test_check_page_explains_a_verdict(console: Console) -> None:
    client = console.login("dsl")
    page = client.get("/check", params={"site": "http://www.bet.example/poker", "client": "10.0.0.1"}).text
    assert 'id="check-action" class="fail">BLOCK' in page and "t/gambling" in page and "gambling.txt:1" in page
    assert "not an IP address" in client.get("/check", params={"site": "x.example", "client": "nope"}).text
    csrf_of(page)
