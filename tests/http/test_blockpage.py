"""The block page: content, escaping, plain text and HEAD."""

from __future__ import annotations

from datetime import UTC, datetime

from filterproxy.config.block import BlockSettings
from filterproxy.http.blockpage import category_title, render, wants_html
from filterproxy.model import Action, Category, Reason, Verdict

VERDICT = Verdict(
    Action.BLOCK, Reason.CATEGORY, "pupils", "bet.example", Category.GAMBLING, "ut1/gambling", "bet.example"
)
SETTINGS = BlockSettings(school_name="St <Mary's>", review_url="mailto:ict@school.example", logo_url=None)
AT = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)


def test_html_page_shows_the_facts_without_javascript() -> None:
    page = render(
        VERDICT,
        url="http://bet.example/<x>",
        reference="K7Q-M2XD",
        at=AT,
        settings=SETTINGS,
        accept="text/html,application/xhtml+xml",
    )
    text = page.body.decode()
    assert page.status == 403 and page.headers["Content-Type"].startswith("text/html")
    assert "Gambling" in text and "K7Q-M2XD" in text and "2026-03-04T10:30:00+00:00" in text
    assert "St &lt;Mary&#x27;s&gt;" in text and "http://bet.example/&lt;x&gt;" in text  # escaped
    assert "<script" not in text.lower() and 'lang="en"' in text
    assert "mailto:ict@school.example?body=Reference%3A%20K7Q-M2XD" in text
    assert page.headers["Content-Length"] == str(len(page.body))


def test_plain_text_for_other_clients_and_no_body_for_head() -> None:
    page = render(VERDICT, url="u", reference="R", at=AT, settings=SETTINGS, accept="*/*")
    assert page.headers["Content-Type"].startswith("text/plain") and b"Category: Gambling" in page.body
    head = render(VERDICT, url="u", reference="R", at=AT, settings=SETTINGS, accept="text/html", method="HEAD")
    assert head.body == b"" and int(head.headers["Content-Length"]) > 0


def test_titles_in_plain_words() -> None:
    assert category_title(VERDICT) == "Gambling"
    local = Verdict(Action.BLOCK, Reason.LOCAL_DENY, "pupils", "x.example")
    assert category_title(local) == "Blocked by the school"
    assert not wants_html(None) and wants_html("TEXT/HTML")


def test_automatic_verdicts_say_so_and_invite_a_review() -> None:
    automatic = VERDICT._replace(reason=Reason.CONTENT, source="content/gambling@1", rule="412 points >= 100")
    for accept in ("text/html", "*/*"):
        page = render(automatic, url="u", reference="R", at=AT, settings=SETTINGS, accept=accept)
        assert b"categorised automatically: ask for a review" in page.body
        listed = render(VERDICT, url="u", reference="R", at=AT, settings=SETTINGS, accept=accept)
        assert b"categorised automatically" not in listed.body


def test_security_headers_forbid_sniffing_scripts_and_foreign_loads() -> None:
    import base64
    import hashlib
    import re

    for accept in ("text/html", "*/*"):
        page = render(VERDICT, url="u", reference="R", at=AT, settings=SETTINGS, accept=accept)
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        csp = dict(d.strip().split(" ", 1) for d in page.headers["Content-Security-Policy"].split(";"))
        assert csp["default-src"] == "'none'" and csp["form-action"] == "'self'"
        assert csp["img-src"] == "'none'" and csp["frame-ancestors"] == "'none'" and csp["base-uri"] == "'none'"
        assert "script-src" not in csp and "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    html_page = render(VERDICT, url="u", reference="R", at=AT, settings=SETTINGS, accept="text/html").body.decode()
    style = re.search(r"<style>(.*?)</style>", html_page, re.DOTALL)
    assert style is not None  # the hash in the policy is the hash of the style the page really carries
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert csp["style-src"] == f"'sha256-{digest}'"


def test_csp_allows_the_configured_logo_origin_only() -> None:
    settings = BlockSettings(school_name="S", review_url="https://r.example/", logo_url="https://cdn.school.example/l.png")
    page = render(VERDICT, url="u", reference="R", at=AT, settings=settings, accept="text/html")
    assert "img-src https://cdn.school.example;" in page.headers["Content-Security-Policy"]
