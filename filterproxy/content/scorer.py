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
        self._single: dict[str, list[Phrase]] = {}  # one-word phrases
        self._prefix: dict[str, list[Phrase]] = {}  # one-word prefixes ("masturbat*")
        self._pairs: dict[tuple[str, str], list[Phrase]] = {}  # longer phrases by their first two words
        self._loose: dict[str, list[Phrase]] = {}  # two words, the second a prefix ("free bet*")
        for phrase_list in (*book.lists.values(), *([book.context] if book.context else [])):
            for phrase in phrase_list.phrases:
                words = phrase.words
                if len(words) == 1:
                    (self._prefix if phrase.prefix else self._single).setdefault(words[0], []).append(phrase)
                elif len(words) == 2 and phrase.prefix:
                    self._loose.setdefault(words[0], []).append(phrase)
                else:
                    self._pairs.setdefault((words[0], words[1]), []).append(phrase)
        self._starts = frozenset(first for first, _ in self._pairs)
        self._prefix_lengths = sorted({len(p) for p in self._prefix})

    @property
    def categories(self) -> tuple[Category, ...]:
        return tuple(self.lists)

    def source(self, category: Category) -> str:
        return self.lists[category].source

    def count(self, tokens: list[str]) -> Counter[Phrase]:
        found: Counter[Phrase] = Counter()
        memo: dict[str, tuple[tuple[Phrase, ...], bool, tuple[Phrase, ...]]] = {}  # pages repeat their words
        candidates, pairs, last = self._candidates, self._pairs, len(tokens) - 1
        for at, token in enumerate(tokens):
            known = memo.get(token)
            if known is None:
                known = memo[token] = candidates(token)
            single, paired, loose = known
            for phrase in single:  # one word: matched already
                found[phrase] += 1
            if paired and at < last:
                for phrase in pairs.get((token, tokens[at + 1]), ()):
                    if len(phrase.words) == 2 or phrase.matches_at(tokens, at):
                        found[phrase] += 1
            for phrase in loose:
                if phrase.matches_at(tokens, at):
                    found[phrase] += 1
        return found

    def _candidates(self, token: str) -> tuple[tuple[Phrase, ...], bool, tuple[Phrase, ...]]:
        """(one-word phrases this token matches, whether longer ones start with it, prefix pairs)."""
        single = list(self._single.get(token, ()))
        for length in self._prefix_lengths:
            if length > len(token):
                break
            single.extend(self._prefix.get(token[:length], ()))
        return tuple(single), token in self._starts, tuple(self._loose.get(token, ()))

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
