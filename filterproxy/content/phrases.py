"""Weighted phrase lists: one file per category, loaded into one matcher.

File format (``filterproxy/content/phrases/<category>.txt``, UTF-8)::

    # version: 3                 required, once, before the first phrase
    # anything else after '#' is a comment; blank lines are ignored
    40  free porn videos         <weight> <phrase>: weight an integer from -200 to 200
    -30 sex education            negative weights mark educational or supportive context
    25  masturbat*               a trailing '*' on the last word matches any word it begins

Phrases are normalised exactly as page text is (:func:`filterproxy.content.normalise.words`), so
``P.O.R.N`` in a file means ``porn``. The file name is the category id; ``context.txt`` holds
phrases that weigh on every category (the words of teaching and support pages). A bad line is
reported as ``file:line: problem`` and the whole load fails: a half-loaded list would score pages
wrongly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from filterproxy.content.normalise import words
from filterproxy.errors import ContentError
from filterproxy.model import Category

MAX_WEIGHT = 200
_VERSION = re.compile(r"#\s*version\s*:\s*(\S+)\s*$", re.IGNORECASE)
_LINE = re.compile(r"(-?\d+)\s+(\S.*?)\s*$")


CONTEXT = "context"  # the file whose phrases weigh on every category


@dataclass(frozen=True, slots=True)
class Phrase:
    category: Category | None  # None: a context phrase, counted for every category
    words: tuple[str, ...]  # normalised; the last one is a prefix when ``prefix``
    weight: int
    prefix: bool
    text: str  # as written, for evidence

    def matches_at(self, tokens: list[str], at: int) -> bool:
        n = len(self.words)
        if at + n > len(tokens):
            return False
        for offset in range(1, n - 1 if self.prefix else n):
            if tokens[at + offset] != self.words[offset]:
                return False
        if n > 1 and not self.prefix:
            return True
        last = tokens[at + n - 1]
        return last.startswith(self.words[-1]) if self.prefix else last == self.words[-1]


@dataclass(frozen=True, slots=True)
class PhraseList:
    category: Category | None
    version: str
    phrases: tuple[Phrase, ...]
    path: str

    @property
    def source(self) -> str:
        """The verdict's ``source``: ``content/<category>@<version>``."""
        return f"content/{self.category.value if self.category else CONTEXT}@{self.version}"


@dataclass(frozen=True, slots=True)
class PhraseBook:
    """The lists of every category, and the context phrases that weigh on all of them."""

    lists: dict[Category, PhraseList]
    context: PhraseList | None = None

    def merged(self, other: PhraseBook) -> PhraseBook:
        """This book with ``other``'s lists (and context) replacing those of the same name."""
        return PhraseBook({**self.lists, **other.lists}, other.context or self.context)


def parse(text: str, category: Category | None, path: str) -> tuple[PhraseList | None, list[str]]:
    """One file's phrases, and its problems as ``path:line: message`` (the list is None if any)."""
    problems: list[str] = []
    version: str | None = None
    phrases: list[Phrase] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            found = _VERSION.match(line)
            if found is not None:
                if version is not None:
                    problems.append(f"{path}:{number}: a second version line")
                version = found.group(1)
            continue
        phrase, problem = _phrase(line, category)
        if problem is not None:
            problems.append(f"{path}:{number}: {problem}")
        elif version is None:
            problems.append(f"{path}:{number}: a phrase before the '# version: N' line")
        elif phrase is not None:
            phrases.append(phrase)
    if version is None and not problems:
        problems.append(f"{path}:1: no '# version: N' line")
    if problems or version is None:
        return None, problems
    return PhraseList(category, version, tuple(phrases), path), []


def _phrase(line: str, category: Category | None) -> tuple[Phrase | None, str | None]:
    found = _LINE.match(line)
    if found is None:
        return None, f"expected '<weight> <phrase>', got {line[:60]!r}"
    weight = int(found.group(1))
    if not -MAX_WEIGHT <= weight <= MAX_WEIGHT or weight == 0:
        return None, f"weight {weight} is outside -{MAX_WEIGHT}..{MAX_WEIGHT} or zero"
    text = found.group(2)
    prefix = text.endswith("*")
    normalised = tuple(words(text.rstrip("*")))
    if not normalised:
        return None, f"phrase {text!r} has no words after normalisation"
    if "*" in text.rstrip("*"):
        return None, "'*' is only allowed at the end of the phrase"
    return Phrase(category, normalised, weight, prefix, text), None


def load_dir(directory: Path | Traversable) -> PhraseBook:
    """Every ``<category>.txt`` in ``directory``; raises :class:`ContentError` naming each bad line."""
    lists: dict[Category, PhraseList] = {}
    context: PhraseList | None = None
    problems: list[str] = []
    for entry in sorted(directory.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".txt"):
            continue
        stem = entry.name.removesuffix(".txt")
        try:
            category = None if stem == CONTEXT else Category(stem)
        except ValueError:
            problems.append(f"{entry.name}:1: {stem!r} is not a category id (nor {CONTEXT!r})")
            continue
        found, bad = parse(entry.read_text(encoding="utf-8"), category, entry.name)
        problems.extend(bad)
        if found is not None and category is None:
            context = found
        elif found is not None and category is not None:
            lists[category] = found
    if problems:
        raise ContentError("bad phrase list lines:\n  " + "\n  ".join(problems))
    if not lists and context is None:
        raise ContentError(f"no phrase lists (<category>.txt) in {directory}")
    return PhraseBook(lists, context)


def packaged() -> PhraseBook:
    """The phrase lists shipped with filterproxy."""
    return load_dir(resources.files("filterproxy.content").joinpath("phrases"))
