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
