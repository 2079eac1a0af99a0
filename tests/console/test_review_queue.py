"""The console's review queue of automatic categorisations: roles, CSRF, reasons, audited decisions.

The queue library (``filterproxy.categorise``) may be absent: the first test checks the page then
says so plainly; the others need it and are skipped only when it cannot be imported.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import httpx
import pytest

from filterproxy.model import Category, Reason
from tests.console.conftest import Console, csrf_of
from tests.console.test_api import bearer
from tests.console.test_pages import record
from tests.incidents.conftest import make_event


def _importable() -> bool:
    try:
        return importlib.util.find_spec("filterproxy.categorise.queue") is not None
    except ImportError:
        return False


needs_queue = pytest.mark.skipif(not _importable(), reason="filterproxy.categorise is not importable on this branch")


def automatic(site: str, category: Category, reason: Reason = Reason.MODEL) -> object:
    event = make_event(client="10.0.0.31", site=site, category=category)
    verdict = event.verdict._replace(reason=reason, source="model", rule=f"{site}: score 0.97 (casino, bet)")
    return event._replace(verdict=verdict)


def audit(console: Console) -> list[dict[str, object]]:
    return [json.loads(x) for x in (console.config.data_dir / "audit.jsonl").read_text().splitlines()]


def test_without_the_categorisation_package_the_page_says_so(console: Console,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "filterproxy.categorise", None)  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "filterproxy.categorise.queue", None)  # type: ignore[arg-type]
    client = console.login("dsl")
    answer = client.get("/review-queue")
    assert answer.status_code == 404 and "not part of this installation" in answer.text
    with httpx.Client(base_url=console.url, headers=bearer(console, "ict"), timeout=20) as api:
        assert api.get("/api/review-queue").status_code == 404
        posted = api.post("/api/review-queue", json={"site": "x.example", "decision": "reject", "reason": "r"})
        assert posted.status_code == 404
    viewer = console.login("gov")
    assert viewer.get("/review-queue").status_code == 403


@needs_queue
def test_safeguarding_views_admin_confirms_and_rejects_with_a_reason(console: Console) -> None:
    record(console, [automatic("spin-casino-win.example", Category.GAMBLING),
                     automatic("maths-help.example", Category.GAMBLING, Reason.CONTENT)])
    dsl = console.login("dsl")
    page = dsl.get("/review-queue").text
    assert "spin-casino-win.example" in page and "maths-help.example" in page
    assert 'action="/review-queue/decide"' not in page  # safeguarding may look, not decide
    refused = dsl.post("/review-queue/decide", data={"site": "maths-help.example", "decision": "reject",
                                                     "reason": "x", "csrf_token": csrf_of(page)})
    assert refused.status_code == 403

    ict = console.login("ict")
    page = ict.get("/review-queue").text
    assert "Review queue" in page and 'action="/review-queue/decide"' in page
    token = csrf_of(page)
    form = {"site": "spin-casino-win.example", "decision": "confirm", "reason": "clearly a casino"}
    assert ict.post("/review-queue/decide", data=form).status_code == 403  # no csrf_token
    assert ict.post("/review-queue/decide", data={**form, "reason": " ", "csrf_token": token}).status_code == 400
    done = ict.post("/review-queue/decide", data={**form, "csrf_token": token})
    assert done.status_code == 303
    assert "confirmed" in ict.get(done.headers["location"]).text
    with httpx.Client(base_url=console.url, headers=bearer(console, "ict"), timeout=20) as api:
        rejected = api.post("/api/review-queue", json={"site": "maths-help.example", "decision": "reject",
                                                       "reason": "a maths site"})
        assert rejected.json() == {"decision": "reject", "changed": ["maths-help.example"]}
        lists = api.get("/api/lists").json()
        assert "spin-casino-win.example" in lists["gambling"] and "maths-help.example" in lists["allow"]
        left = {i["site"] for i in api.get("/api/review-queue").json()}
        assert not left & {"spin-casino-win.example", "maths-help.example"}
    decisions = [(r["user"], r["action"], r.get("site"), r["reason"]) for r in audit(console)
                 if str(r["action"]).startswith("console.review_queue.")]
    assert decisions == [("ict", "console.review_queue.confirm", "spin-casino-win.example", "clearly a casino"),
                         ("ict", "console.review_queue.reject", "maths-help.example", "a maths site")]
