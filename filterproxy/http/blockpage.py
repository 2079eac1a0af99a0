"""The block page: what was blocked, why in plain words, a reference, and how to ask for a review.

No JavaScript, one self-contained HTML page (inline CSS), readable by screen readers. Clients
that do not accept HTML get the same facts as plain text; HEAD gets the headers only.

The page is served under the blocked site's origin, so it must not become a foothold there: it is
never sniffed into another type (``nosniff``) and its Content-Security-Policy allows nothing but its
own inline style (by hash), the configured logo and a form posting back to itself.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib import resources
from string import Template
from urllib.parse import quote, urlsplit

from filterproxy.config.block import BlockSettings
from filterproxy.model import CATEGORY_TITLES, Category, Reason, Verdict

STATUS = 403
AUTOMATIC = "This page was categorised automatically: ask for a review if you think it is wrong."
_AUTOMATIC_REASONS = frozenset({Reason.MODEL, Reason.CONTENT})
_REASON_TITLES = {
    Reason.LOCAL_DENY: "Blocked by the school",
    Reason.ILLEGAL: CATEGORY_TITLES[Category.ILLEGAL],
}


@dataclass(frozen=True, slots=True)
class BlockPage:
    """A rendered answer: status, headers and body (empty for HEAD)."""

    status: int
    headers: dict[str, str]
    body: bytes


def category_title(verdict: Verdict) -> str:
    """The category in plain words, for pupils."""
    if verdict.category is not None:
        return CATEGORY_TITLES[verdict.category]
    return _REASON_TITLES.get(verdict.reason, "Blocked by the school's policy")


@lru_cache(maxsize=1)
def _style_hash() -> str:
    """The CSP source of the template's one inline style block: 'sha256-...' of its exact text."""
    text = resources.files("filterproxy.http").joinpath("templates/blockpage.html").read_text("utf-8")
    found = re.search(r"<style>(.*?)</style>", text, re.DOTALL)
    style = found.group(1) if found else ""
    return "'sha256-" + base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode() + "'"


@lru_cache(maxsize=16)
def content_security_policy(logo_url: str | None) -> str:
    """Nothing may load, run, frame or be posted anywhere but the inline style and the school logo."""
    image = "'none'"
    if logo_url:
        parts = urlsplit(logo_url)
        image = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else "'self'"
    return (
        f"default-src 'none'; style-src {_style_hash()}; img-src {image}; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


@lru_cache(maxsize=1)
def _template() -> Template:
    text = resources.files("filterproxy.http").joinpath("templates/blockpage.html").read_text("utf-8")
    return Template(text)


def automatic_note(verdict: Verdict) -> str:
    """The sentence for verdicts no person or list made (model, content), else empty."""
    return AUTOMATIC if verdict.reason in _AUTOMATIC_REASONS else ""


def wants_html(accept: str | None) -> bool:
    """Browsers say text/html; API clients, curl (*/*) and fetchers of images get plain text."""
    return accept is not None and "text/html" in accept.lower()


def render(
    verdict: Verdict,
    *,
    url: str,
    reference: str,
    at: datetime,
    settings: BlockSettings,
    accept: str | None,
    method: str = "GET",
) -> BlockPage:
    """The block page for one blocked request."""
    title = category_title(verdict)
    headers = {
        "Cache-Control": "no-store",
        "X-Filterproxy-Reference": reference,
        "X-Filterproxy-Category": verdict.what,
        **SECURITY_HEADERS,
        "Content-Security-Policy": content_security_policy(settings.logo_url),
    }
    if wants_html(accept):
        body = _html(verdict, title, url, reference, at, settings).encode("utf-8")
        headers["Content-Type"] = "text/html; charset=utf-8"
    else:
        body = _text(title, url, reference, at, settings).encode("utf-8")
        if verdict.reason in _AUTOMATIC_REASONS:
            body += f"{AUTOMATIC}\n".encode()
        headers["Content-Type"] = "text/plain; charset=utf-8"
    headers["Content-Length"] = str(len(body))
    return BlockPage(STATUS, headers, b"" if method.upper() == "HEAD" else body)


def _html(verdict: Verdict, title: str, url: str, reference: str, at: datetime, settings: BlockSettings) -> str:
    esc = html.escape
    logo = f'<img src="{esc(settings.logo_url)}" alt="{esc(settings.school_name)}">' if settings.logo_url else ""
    return _template().substitute(
        category_title=esc(title),
        school_name=esc(settings.school_name),
        logo=logo,
        url=esc(url),
        reference=esc(reference),
        time_iso=esc(at.isoformat(timespec="seconds")),
        time_text=esc(at.strftime("%d %B %Y, %H:%M:%S %Z")),
        review_url=esc(_review_link(settings, reference, url)),
        contact=esc(settings.contact),
        automatic=f'<p class="auto">{esc(AUTOMATIC)}</p>' if verdict.reason in _AUTOMATIC_REASONS else "",
    )


def _line(text: str) -> str:
    return text + "\n" if text else ""


def _review_link(settings: BlockSettings, reference: str, url: str) -> str:
    """The review link: the console's request form with the reference, else ``review_url`` (a mailto:
    body carries the reference and page)."""
    if settings.request_url:
        joiner = "&" if "?" in settings.request_url else "?"
        return f"{settings.request_url}{joiner}ref={quote(reference)}&site={quote(_host_of(url))}"
    link = settings.review_url
    if link.startswith("mailto:"):
        joiner = "&" if "?" in link else "?"
        body = quote(f"Reference: {reference}\nPage: {url}\n")
        link = f"{link}{joiner}body={body}"
    return link


def _host_of(url: str) -> str:
    return urlsplit(url if "://" in url else f"http://{url}").hostname or ""


def _text(title: str, url: str, reference: str, at: datetime, settings: BlockSettings) -> str:
    return (
        f"Blocked by {settings.school_name}\n"
        f"Page: {url}\nCategory: {title}\nReference: {reference}\n"
        f"Time: {at.isoformat(timespec='seconds')}\n"
        f"To ask for a review: {_review_link(settings, reference, url)} "
        f"(or tell {settings.contact}; give the reference).\n"
    )
