"""The live classifier behind one reference, swapped atomically on reload.

Readers call :meth:`Engine.classify`; it reads ``self._current`` once, so a reload that
swaps in a new :class:`Classifier` never leaves a reader with half of each.
"""

from __future__ import annotations

from filterproxy.classify.classifier import Classifier
from filterproxy.model import IPAddress, Query, Verdict


class Engine:
    """Holds the current :class:`Classifier`; the DNS and HTTP paths share one Engine."""

    __slots__ = ("_current", "generation")

    def __init__(self, classifier: Classifier) -> None:
        self._current = classifier
        self.generation = 1  # bumps on every swap; caches keyed on verdicts compare it

    @property
    def current(self) -> Classifier:
        return self._current

    def classify(self, query: Query) -> Verdict:
        return self._current.classify(query)

    def group_of(self, client: IPAddress) -> str:
        return self._current.policy.group_of(client)

    def group_for(self, client: IPAddress, directory: tuple[str, ...]) -> str:
        """The group of a person (their directory groups), else of the client's network."""
        return self._current.policy.group_for(client, directory)

    def swap(self, classifier: Classifier) -> None:
        self._current = classifier
        self.generation += 1
