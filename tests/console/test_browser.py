"""The console in a real browser against a real `filterproxy serve` (resolver, mitmproxy, console).

A DSL triages and closes an incident that a real DNS block made; the ICT manager allows a site and
the resolver's answer changes; a pupil asks for a review from a real block page and the ICT manager
approves it; a governor (viewer) is refused an admin action. Screenshots go to artifacts/console/.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from tests.console.browser import ARTIFACTS, available, browser, click, fill, shoot, sign_in
from tests.console.conftest import PASSWORDS
from tests.console.serving import Serving, serving

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not available(), reason="chromium/chromedriver not installed")]
BLOCK_PAGE_ADDRESS = ["127.0.0.1"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    with serving(tmp_path_factory.mktemp("served")) as running:
        yield running


def until(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_dsl_triages_and_closes_an_incident_from_a_real_dns_block(served: Serving) -> None:
    assert served.resolve("www.bet.example") == BLOCK_PAGE_ADDRESS
    incident = served.wait_incident("www.bet.example")
    with browser() as driver:
        driver.get(f"{served.console}/incidents")
        assert "/login" in driver.current_url
        shoot(driver, "login")
        sign_in(driver, served.console, "dsl", PASSWORDS["dsl"])
        assert driver.find_element(By.ID, "card-new").text.startswith("1")
        assert "p.smith (inventory) lab-pc-07 127.0.0.1" in driver.find_element(By.ID, "newest-table").text
        shoot(driver, "dashboard")
        click(driver, By.LINK_TEXT, "Incidents")
        table = driver.find_element(By.ID, "incident-table").text
        assert "www.bet.example" in table and "gambling" in table and "p.smith (inventory)" in table
        shoot(driver, "incidents")
        fill(driver, {"f-user": "P.Smith"})
        click(driver, By.CSS_SELECTOR, "form[action='/incidents'] button")
        assert "www.bet.example" in driver.find_element(By.ID, "incident-table").text
        fill(driver, {"f-user": "someone.else"})
        click(driver, By.CSS_SELECTOR, "form[action='/incidents'] button")
        assert "No incidents match." in driver.find_element(By.ID, "incident-table").text
        driver.get(f"{served.console}/incidents")
        click(driver, By.CSS_SELECTOR, f'a[href="/incidents/{incident["id"]}"]')
        assert "t/gambling" in driver.find_element(By.ID, "explanation").text
        assert driver.find_element(By.ID, "incident-user").text == "p.smith"
        assert driver.find_element(By.ID, "incident-identified").text == "inventory"
        fill(driver, {"move": "triage", "note": "Year 9 laptop; spoke to the form tutor"})
        click(driver, By.ID, "move-submit")
        assert driver.find_element(By.ID, "incident-status").text == "triaged"
        fill(driver, {"move": "close", "note": "no further action"})
        click(driver, By.ID, "move-submit")
        assert "closing needs the action taken" in driver.find_element(By.ID, "move-error").text
        fill(driver, {"move": "close", "action": "talked to the pupil", "outcome": "dealt_with",
                      "note": "pupil understood; parents informed"})
        click(driver, By.ID, "move-submit")
        assert driver.find_element(By.ID, "incident-status").text == "closed"
        assert "dsl moved it from triaged to closed" in driver.find_element(By.ID, "history").text
        shoot(driver, "incident")
    shown = json.loads(served.cli("incidents", "show", str(incident["id"]), "--json"))
    assert shown["status"] == "closed" and shown["action"] == "talked to the pupil"
    assert [t["by"] for t in shown["transitions"]] == ["dsl", "dsl"]


def test_ict_manager_allows_a_site_and_the_dns_answer_changes(served: Serving) -> None:
    assert served.resolve("bet.example") == BLOCK_PAGE_ADDRESS
    with browser() as driver:
        sign_in(driver, served.console, "ict", PASSWORDS["ict"])
        driver.get(f"{served.console}/check?site=bet.example")
        assert driver.find_element(By.ID, "check-action").text == "BLOCK"
        shoot(driver, "check")
        driver.get(f"{served.console}/lists")
        fill(driver, {"verb": "allow", "names": "bet.example", "reason": "maths project on probability"})
        click(driver, By.ID, "lists-submit")
        assert "1 of 1 name(s) changed" in driver.find_element(By.ID, "lists-done").text
        shoot(driver, "lists")
        until(lambda: served.resolve("bet.example") == ["192.0.2.66"])
        fill(driver, {"verb": "allow", "names": "abuse.example", "reason": "testing"})
        click(driver, By.ID, "lists-submit")
        assert "listed as illegal" in driver.find_element(By.ID, "lists-error").text
        driver.get(f"{served.console}/selftest")
        click(driver, By.ID, "selftest-run")
        heading = driver.find_element(By.CSS_SELECTOR, "main h2").text
        assert heading.startswith("Group pupils:"), heading
        assert "gambling" in driver.find_element(By.TAG_NAME, "table").text
        shoot(driver, "selftest")
        for page in ("sources", "review", "requests"):
            driver.get(f"{served.console}/{page}")
            shoot(driver, page)
    assert served.resolve("abuse.example") == BLOCK_PAGE_ADDRESS
    audit = [json.loads(x) for x in (served.config.parent / "data" / "audit.jsonl").read_text().splitlines()]
    assert any(r["action"] == "allow" and r["user"] == "ict" and r["entries"] == ["bet.example"] for r in audit)
    assert any(r["action"] == "refused" and r["user"] == "ict" for r in audit)
    assert any(r["action"] == "console.selftest" and r["user"] == "ict" for r in audit)
    assert (served.config.parent / "data" / "selftest" / "results.jsonl").exists()


def test_unblock_request_from_a_real_block_page_is_approved(served: Serving) -> None:
    assert served.resolve("adult.example") == BLOCK_PAGE_ADDRESS
    with browser(proxy_port=served.ports["proxy"]) as pupil:
        pupil.get("http://adult.example/art-history/page")
        assert "This page is blocked" in pupil.page_source
        shoot(pupil, "blockpage")
        reference = pupil.find_element(By.CSS_SELECTOR, "dd.ref").text
        served.wait_incident("adult.example")
        click(pupil, By.LINK_TEXT, "ask for a review")
        assert pupil.current_url.startswith(f"{served.console}/request?ref={reference}")
        assert pupil.find_element(By.ID, "reference").get_attribute("value") == reference
        fill(pupil, {"reason": "Art history coursework: classical sculpture"})
        shoot(pupil, "ask")
        click(pupil, By.ID, "ask-submit")
        assert pupil.find_element(By.ID, "request-status").text == "waiting for a decision"
        with browser() as ict:
            sign_in(ict, served.console, "ict", PASSWORDS["ict"])
            assert ict.find_element(By.ID, "card-requests").text.startswith("1")
            ict.get(f"{served.console}/requests")
            card = ict.find_element(By.CSS_SELECTOR, "section[id^=request-]")
            assert "adult.example" in card.text and reference in card.text and "classical sculpture" in card.text
            shoot(ict, "requests-pending")
            request_id = card.get_attribute("id").removeprefix("request-")
            fill(ict, {f"decision-{request_id}": "approve", f"scope-{request_id}": "permanent",
                       f"note-{request_id}": "fine for coursework"})
            click(ict, By.ID, f"decide-submit-{request_id}")
            assert "No requests." in ict.page_source
        pupil.refresh()
        assert pupil.find_element(By.ID, "request-status").text == "approved"
        shoot(pupil, "ask-status")
    until(lambda: served.resolve("adult.example") != BLOCK_PAGE_ADDRESS)
    with httpx.Client(proxy=f"http://127.0.0.1:{served.ports['proxy']}", timeout=10) as client:
        until(lambda: "This page is blocked" not in client.get("http://adult.example/",
                                                               headers={"Accept": "text/html"}).text)
    listed = json.loads(served.cli("requests", "list", "--json"))
    assert listed[0]["status"] == "approved" and listed[0]["decided_by"] == "ict"
    assert listed[0]["category"] == "adult" and listed[0]["reference"] == reference


def test_viewer_is_refused_an_admin_action(served: Serving) -> None:
    with browser() as driver:
        sign_in(driver, served.console, "gov", PASSWORDS["gov"])
        nav = driver.find_element(By.TAG_NAME, "nav").text
        assert "Dashboard" in nav and "Annual review" in nav and "Incidents" not in nav and "School lists" not in nav
        shoot(driver, "dashboard-viewer")
        driver.get(f"{served.console}/lists")
        assert "Your role (viewer) cannot do this" in driver.find_element(By.ID, "error-message").text
        # the admin's form is not shown to a viewer; post it anyway, as a crafted page would
        driver.get(f"{served.console}/selftest")
        assert not driver.find_elements(By.ID, "selftest-run")
        driver.execute_script("""
            const form = document.createElement("form");
            form.method = "post"; form.action = "/lists/edit";
            const token = document.querySelector("input[name=csrf_token]").value;
            for (const [k, v] of [["csrf_token", token], ["verb", "allow"], ["names", "governor.example"],
                                  ["reason", "I want it"]]) {
                const input = document.createElement("input");
                input.name = k; input.value = v; form.appendChild(input);
            }
            document.body.appendChild(form); form.submit();""")
        WebDriverWait(driver, 20).until(lambda d: d.current_url.endswith("/lists/edit"))
        message = driver.find_element(By.ID, "error-message").text
        assert "Your role (viewer) cannot do this; it needs the admin role" in message
        shoot(driver, "refused")
    allow = served.config.parent / "data" / "local" / "allow.txt"
    assert "governor.example" not in allow.read_text()
    audit = (served.config.parent / "data" / "audit.jsonl").read_text()
    assert '"user": "gov", "action": "console.refused"' in audit
    assert (ARTIFACTS / "dashboard.png").exists()
    assert Path(ARTIFACTS / "refused-tablet.png").read_bytes().startswith(b"\x89PNG")


def test_ict_manager_disables_and_enables_a_source_and_the_resolver_follows(served: Serving) -> None:
    (served.config.parent / "gambling.txt").write_text("bet.example\nok.example\n")
    until(lambda: served.resolve("ok.example") == BLOCK_PAGE_ADDRESS, 60)  # the watch saw the new entry
    with browser() as driver:
        sign_in(driver, served.console, "ict", PASSWORDS["ict"])
        driver.get(f"{served.console}/sources")
        row = next(r for r in driver.find_elements(By.CSS_SELECTOR, "tr[id^=source-]") if "t/gambling" in r.text)
        number = row.get_attribute("id").removeprefix("source-")
        assert row.find_element(By.CLASS_NAME, "state").text == "enabled"
        fill(driver, {f"reason-{number}": "gambling lessons in maths this week"})
        click(driver, By.ID, f"toggle-{number}")
        assert "t/gambling disabled" in driver.find_element(By.ID, "sources-done").text
        assert "changed here" in driver.find_element(By.ID, f"source-{number}").text
        shoot(driver, "sources-disabled")
        until(lambda: served.resolve("ok.example") == ["192.0.2.1"], 60)
        fill(driver, {f"reason-{number}": "lessons over"})
        click(driver, By.ID, f"toggle-{number}")
        assert "t/gambling enabled" in driver.find_element(By.ID, "sources-done").text
        assert driver.find_element(By.ID, f"source-{number}").find_element(By.CLASS_NAME, "state").text == "enabled"
    until(lambda: served.resolve("ok.example") == BLOCK_PAGE_ADDRESS, 60)
    stats = json.loads(served.cli("lists", "stats", "--json"))
    row = next(s for s in stats["sources"] if s["source"] == "t/gambling")
    assert (row["enabled"], row["overridden"]) == (True, False)
    audit = [json.loads(x) for x in (served.config.parent / "data" / "audit.jsonl").read_text().splitlines()]
    assert [(r["action"], r["reason"]) for r in audit if r["user"] == "ict" and r["action"].startswith("source.")] == [
        ("source.disable", "gambling lessons in maths this week"), ("source.enable", "lessons over")]
