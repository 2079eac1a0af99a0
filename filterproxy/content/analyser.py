"""A page body in, category scores out: decode (charset-aware), strip markup, normalise, score.

Only the first ``max_bytes`` of a body are read: harmful pages say what they are early (title,
headings, navigation), and a bound keeps the cost per page flat. Used by the proxy and by the
background categoriser alike.
"""

from __future__ import annotations

import time
from pathlib import Path

from filterproxy.content.decode import decode
from filterproxy.content.metrics import ContentMetrics
from filterproxy.content.phrases import PhraseBook, load_dir, packaged
from filterproxy.content.scorer import CategoryScore, Scanner
from filterproxy.model import Category

HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)


def page_kind(content_type: str | None) -> str | None:
    """``html``, ``text``, or None for a body content analysis does not read."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in HTML_TYPES:
        return "html"
    if media in TEXT_TYPES:
        return "text"
    return None


def load_lists(phrases_dir: Path | None) -> PhraseBook:
    """The packaged phrase lists, with those in ``phrases_dir`` replacing their categories'."""
    book = packaged()
    return book.merged(load_dir(phrases_dir)) if phrases_dir is not None else book


class Analyser:
    """Scores page bodies; immutable apart from its metrics, shared by every flow."""

    def __init__(self, book: PhraseBook, max_bytes: int, metrics: ContentMetrics | None = None) -> None:
        self.scanner = Scanner(book)
        self.max_bytes = max_bytes
        self.metrics = metrics

    @property
    def version(self) -> str:
        return ",".join(sorted(f"{c.value}@{p.version}" for c, p in self.scanner.lists.items()))

    def scan(self, body: bytes, content_type: str | None) -> dict[Category, CategoryScore] | None:
        """Scores of the body's first ``max_bytes``; None when the content type is not HTML or text."""
        kind = page_kind(content_type)
        if kind is None:
            return None
        started = time.perf_counter()
        data = body[: self.max_bytes]
        text = decode(data, content_type)
        scores = self.scanner.score_html(text) if kind == "html" else self.scanner.score_text(text)
        if self.metrics is not None:
            self.metrics.kind[kind].inc()
            self.metrics.bytes.inc(len(data))
            self.metrics.scan_time.observe(time.perf_counter() - started)
        return scores
