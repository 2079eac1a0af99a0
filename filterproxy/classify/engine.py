"""The live classifier behind one reference, swapped atomically on reload.

Readers call :meth:`Engine.classify`; it reads ``self._current`` once, so a reload that
swaps in a new :class:`Classifier` never leaves a reader with half of each.
"""

from __future__ import annotations

from collections.abc import Callable

from filterproxy.classify.classifier import Classifier
from filterproxy.classify.siteverdicts import SiteVerdicts
from filterproxy.model import Action, IPAddress, Query, Reason, Verdict


class Engine:
    """Holds the current :class:`Classifier`; the DNS and HTTP paths share one Engine."""

    __slots__ = ("_current", "generation", "sites", "unlisted")

    def __init__(self, classifier: Classifier, sites: SiteVerdicts | None = None) -> None:
        self._current = classifier
        self.generation = 1  # bumps on every swap; caches keyed on verdicts compare it
        self.sites = sites if sites is not None else SiteVerdicts()  # content findings: they outlive a list reload
        self.sites.on_new = self.bump
        self.unlisted: Callable[[str], None] | None = None  # told of names nothing decides (background categoriser)

    @property
    def current(self) -> Classifier:
        return self._current

    def classify(self, query: Query) -> Verdict:
        current = self._current
        verdict = current.classify(query)
        reason = verdict.reason
        if reason is not Reason.UNLISTED and (reason is not Reason.MODEL or verdict.blocked):
            return verdict
        if self.sites:  # what no list decides, content analysis may have (a page read beats a name's log)
            found = self.sites.decide(verdict, current.policy, current.suffixes)
            if found is not verdict and (reason is Reason.UNLISTED or found.action is not Action.ALLOW):
                verdict = found
        if self.unlisted is not None and verdict.reason is Reason.UNLISTED:
            self.unlisted(verdict.host)
        return verdict

    def bump(self) -> None:
        """Verdicts may have changed without a swap (a new content finding): caches start again."""
        self.generation += 1

    def group_of(self, client: IPAddress) -> str:
        return self._current.policy.group_of(client)

    def group_for(self, client: IPAddress, directory: tuple[str, ...]) -> str:
        """The group of a person (their directory groups), else of the client's network."""
        return self._current.policy.group_for(client, directory)

    def swap(self, classifier: Classifier) -> None:
        self._current = classifier
        self.generation += 1
