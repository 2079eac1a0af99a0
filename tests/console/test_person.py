"""The person behind an incident in the console: queue column and user filter, detail page, dashboard, API.

Only those who may see incidents see the person: the dashboard's newest-incidents list is not shown to a
viewer (governors).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from filterproxy.model import Category
from tests.console.conftest import Console
from tests.console.test_pages import api, record
from tests.incidents.conftest import make_event


def seed(console: Console) -> datetime:
    at = datetime.now(UTC).replace(microsecond=0)
    record(console, [
        make_event(client="10.0.0.21", site="who-radius.example", at=at, user="p.smith")._replace(
            identified_by="radius", identified_at=at - timedelta(minutes=5)),
        make_event(client="10.0.0.22", site="who-proxy.example", at=at, user="J.Jones",
                   category=Category.ADULT)._replace(identified_by="proxy_auth", identified_at=at - timedelta(hours=3)),
        make_event(client="10.0.0.23", site="who-nobody.example", at=at),
    ])
    return at


def test_queue_detail_and_api_name_the_person_with_source_and_age(console: Console) -> None:
    seed(console)
    with api(console, "dsl") as client:
        found = {i["host"]: i for i in client.get("/api/incidents", params={"who": "10.0.0.2"}).json()}
        radius = found["www.who-radius.example"]
        assert (radius["user"], radius["identified_by"]) == ("p.smith", "radius")
        assert radius["person"] == "p.smith (radius, 5 min before)"
        assert radius["identified_age"] == "5 min"
        assert radius["who"] == "p.smith (radius, 5 min before) 10.0.0.21"
        assert found["www.who-proxy.example"]["person"] == "J.Jones (proxy_auth, 3 h before)"
        nobody = found["www.who-nobody.example"]
        assert (nobody["person"], nobody["identified_age"], nobody["who"]) == (None, None, "10.0.0.23")

        by_user = client.get("/api/incidents", params={"user": "j.jones"}).json()
        assert [i["host"] for i in by_user] == ["www.who-proxy.example"]  # exact, any case
        assert client.get("/api/incidents", params={"user": "j.jon"}).json() == []
        detail = client.get(f"/api/incidents/{radius['id']}").json()
        assert detail["person"] == "p.smith (radius, 5 min before)" and detail["references"]

        page = client.get("/incidents", params={"user": "p.smith"}).text
        assert "p.smith (radius, 5 min before)" in page and "who-proxy.example" not in page
        assert 'name="user" value="p.smith"' in page
        page = client.get(f"/incidents/{radius['id']}").text
        assert 'id="incident-user">p.smith<' in page
        assert "radius,\n5 min before the first block" in page
        nobody_page = client.get(f"/incidents/{nobody['id']}").text
        assert 'id="incident-user">unknown<' in nobody_page and "incident-identified" not in nobody_page


def test_dashboard_lists_newest_incidents_with_the_person_only_for_safeguarding(console: Console) -> None:
    seed(console)
    with api(console, "dsl") as client:
        newest = client.get("/api/dashboard").json()["newest"]
        assert "p.smith (radius, 5 min before)" in {i["person"] for i in newest}
        page = client.get("/").text
        assert 'id="newest-table"' in page and "p.smith (radius, 5 min before) 10.0.0.21" in page
    with api(console, "gov") as client:
        assert "newest" not in client.get("/api/dashboard").json()
        page = client.get("/").text
        assert 'id="newest-table"' not in page and "p.smith" not in page

