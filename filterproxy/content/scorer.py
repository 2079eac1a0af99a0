"""Scoring page words against the weighted phrase lists: points per category, with the evidence.

A phrase adds ``weight x min(count, REPEAT_CAP)``: a page saying one thing fifty times is not
fifty times as harmful, and an educational page that names a drug often is not pushed over the
line by repetition alone. Negative phrases (educational, supportive or news context) subtract
the same way. Points are compared with the group's threshold for the category; the score shown
on verdicts is ``points / (points + SCALE)``, 0.5 at the default threshold of ``SCALE`` points.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from filterproxy.content.normalise import html_words, words
from filterproxy.content.phrases import Phrase, PhraseBook
from filterproxy.model import Category

REPEAT_CAP = 4
MIN_DISTINCT = 3  # a finding needs this many different positive phrases: one slogan quoted over and over is not a site
SCALE = 100.0  # the default threshold, in points
EVIDENCE = 4  # phrases kept as evidence


@dataclass(frozen=True, slots=True)
class CategoryScore:
    category: Category
    points: float
    evidence: tuple[tuple[str, int], ...]  # (phrase as written, count), heaviest positive first
    distinct: int = 0  # how many different positive phrases were found

    @property
    def score(self) -> float:
        return calibrated(self.points)

    def summary(self, threshold: float) -> str:
        """A short, human-readable account for incidents: top phrases and the points vs threshold."""
        shown = ", ".join(f"'{text}' x{count}" for text, count in self.evidence) or "no phrase"
        return f"{self.points:.0f} points >= {threshold:.0f} ({shown})"


def calibrated(points: float) -> float:
    return max(points, 0.0) / (max(points, 0.0) + SCALE)


class Scanner:
    """All categories' phrases, indexed by first word; immutable and shared by every request."""

    def __init__(self, book: PhraseBook) -> None:
        self.book = book
        self.lists = dict(book.lists)
        self._exact: dict[str, list[Phrase]] = {}
        self._prefix: dict[str, list[Phrase]] = {}  # single-word prefixes
        for phrase_list in (*book.lists.values(), *([book.context] if book.context else [])):
            for phrase in phrase_list.phrases:
                if phrase.prefix and len(phrase.words) == 1:
                    self._prefix.setdefault(phrase.words[0], []).append(phrase)
                else:
                    self._exact.setdefault(phrase.words[0], []).append(phrase)
        self._prefix_lengths = sorted({len(p) for p in self._prefix})

    @property
    def categories(self) -> tuple[Category, ...]:
        return tuple(self.lists)

    def source(self, category: Category) -> str:
        return self.lists[category].source

    def count(self, tokens: list[str]) -> Counter[Phrase]:
        found: Counter[Phrase] = Counter()
        memo: dict[str, tuple[tuple[Phrase, ...], tuple[Phrase, ...]]] = {}  # pages repeat their words
        candidates = self._candidates
        for at, token in enumerate(tokens):
            known = memo.get(token)
            if known is None:
                known = memo[token] = candidates(token)
            if not known[0] and not known[1]:
                continue
            for phrase in known[0]:  # one word: matched already
                found[phrase] += 1
            for phrase in known[1]:
                if phrase.matches_at(tokens, at):
                    found[phrase] += 1
        return found

    def _candidates(self, token: str) -> tuple[tuple[Phrase, ...], tuple[Phrase, ...]]:
        """(one-word phrases this token matches, longer phrases that start with it)."""
        single: list[Phrase] = []
        longer: list[Phrase] = []
        for phrase in self._exact.get(token, ()):
            (single if len(phrase.words) == 1 else longer).append(phrase)
        for length in self._prefix_lengths:
            if length > len(token):
                break
            single.extend(self._prefix.get(token[:length], ()))
        return tuple(single), tuple(longer)

    def score_words(self, tokens: list[str]) -> dict[Category, CategoryScore]:
        points: dict[Category, float] = dict.fromkeys(self.lists, 0.0)
        hits: dict[Category, list[tuple[int, str, int]]] = {c: [] for c in self.lists}
        for phrase, count in self.count(tokens).items():
            contribution = phrase.weight * min(count, REPEAT_CAP)
            if phrase.category is None:  # context: weighs on every category
                for category in points:
                    points[category] += contribution
            elif phrase.category in points:
                points[phrase.category] += contribution
                if contribution > 0:
                    hits[phrase.category].append((contribution, phrase.text, count))
        return {
            category: CategoryScore(
                category,
                points[category],
                tuple((t, n) for _, t, n in sorted(hits[category], reverse=True)[:EVIDENCE]),
                len(hits[category]),
            )
            for category in self.lists
        }

    def score_html(self, markup: str) -> dict[Category, CategoryScore]:
        return self.score_words(html_words(markup))

    def score_text(self, text: str) -> dict[Category, CategoryScore]:
        return self.score_words(words(text))
