"""The block page's "ask for a review" with the console's request form configured (block.request_url)."""

from __future__ import annotations

from datetime import UTC, datetime

from filterproxy.config.block import BlockSettings
from filterproxy.http.blockpage import render
from filterproxy.model import Action, Category, Reason, Verdict

VERDICT = Verdict(
    Action.BLOCK, Reason.CATEGORY, "pupils", "www.bet.example", Category.GAMBLING, "ut1/gambling", "bet.example"
)
AT = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
FORM = "https://console.school.example/request"


def test_html_and_text_link_to_the_request_form_with_the_reference() -> None:
    settings = BlockSettings(request_url=FORM)
    html = render(VERDICT, url="http://www.bet.example/a?b=<c>", reference="K7Q-M2X-D4P", at=AT, settings=settings,
                  accept="text/html").body.decode()
    assert f'href="{FORM}?ref=K7Q-M2X-D4P&amp;site=www.bet.example"' in html
    assert "mailto:" not in html
    text = render(VERDICT, url="www.bet.example:443", reference="R2D-2R2-D2R", at=AT, settings=settings,
                  accept="*/*").body.decode()
    assert f"To ask for a review: {FORM}?ref=R2D-2R2-D2R&site=www.bet.example " in text


def test_a_request_url_with_a_query_keeps_it() -> None:
    settings = BlockSettings(request_url=f"{FORM}?school=hill")
    html = render(VERDICT, url="http://www.bet.example/", reference="AAA-BBB-CCC", at=AT, settings=settings,
                  accept="text/html").body.decode()
    assert f"{FORM}?school=hill&amp;ref=AAA-BBB-CCC&amp;site=www.bet.example" in html


def test_without_request_url_the_review_url_stays() -> None:
    html = render(VERDICT, url="http://www.bet.example/", reference="AAA-BBB-CCC", at=AT,
                  settings=BlockSettings(review_url="https://helpdesk.school.example/new"),
                  accept="text/html").body.decode()
    assert 'href="https://helpdesk.school.example/new"' in html
