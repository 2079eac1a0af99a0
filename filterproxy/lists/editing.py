"""Editing the school's local lists, with the audit trail and the illegal-feed guard."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from filterproxy.classify.classifier import LOCAL_ILLEGAL
from filterproxy.classify.normalise import normalise_name
from filterproxy.config.model import Config
from filterproxy.errors import ConfigError, IllegalOverrideError
from filterproxy.lists.loader import load_classifier, local_files
from filterproxy.lists.local import audit, edit_list
from filterproxy.model import Category, Query, Reason

Verb = Literal["add", "remove", "allow", "unallow"]
_ANY_CLIENT = ipaddress.ip_address("192.0.2.1")


def edit(config: Config, verb: Verb, names: Sequence[str], reason: str, category: Category | None,
         *, user: str | None = None, group: str | None = None, detail: str = "") -> list[str]:
    """Apply one edit; returns the names that changed a file. Refused allows are audited, then raised.

    ``user`` names the person in the audit log (default: the OS user running the CLI); ``group``
    makes an allow/unallow apply to that policy group only; ``detail`` is added to the audit record.
    """
    if not reason.strip():
        raise ConfigError("--reason must say why (it is kept for the annual review)")
    clean = [_normalise(n) for n in names]
    files = local_files(config)
    if verb == "allow":
        _refuse_illegal(config, clean, reason, user)
    if verb in ("add", "remove"):
        if category is None:
            raise ConfigError(f"{verb}: a category is required")
        path = files.deny_file(category)
    elif group is not None:
        if group not in config.policy.groups:
            raise ConfigError(f"unknown group {group!r}")
        path = files.group_allow_file(group)
    else:
        path = files.allow_file
    changed = edit_list(path, clean, add=verb in ("add", "allow"))
    notes = "; ".join(n for n in (f"group {group}" if group else "", detail) if n)
    audit(files, verb, changed, reason, category, user=user, detail=notes)
    return changed


def _normalise(name: str) -> str:
    text = name.strip()
    if "/" in text:
        raise ConfigError(f"{text!r}: local lists take domains, not URLs")
    try:
        return normalise_name(text.removeprefix("*."))
    except ValueError as exc:
        raise ConfigError(f"{text!r}: {exc}") from None


def _refuse_illegal(config: Config, names: list[str], reason: str, user: str | None = None) -> None:
    """Allowing anything listed as illegal is refused, and the attempt is recorded: whatever the source,
    a provider's feed or the school's own `illegal` deny list (the classifier puts both first)."""
    classifier = load_classifier(config)
    now = datetime.now(UTC)
    illegal = [n for n in names if classifier.classify(Query(_ANY_CLIENT, n, now)).reason is Reason.ILLEGAL]
    if illegal:
        sources = sorted({_source(classifier.classify(Query(_ANY_CLIENT, n, now)).source) for n in illegal})
        audit(local_files(config), "refused", illegal, reason, Category.ILLEGAL,
              detail=f"allow refused: listed as illegal by {', '.join(sources)}", user=user)
        raise IllegalOverrideError(
            f"refused: {', '.join(illegal)} listed as illegal ({', '.join(sources)}); an illegal entry "
            "can never be allowed (the attempt was recorded in the audit log)"
        )


def _source(source: str | None) -> str:
    return "the school's own illegal list" if source == LOCAL_ILLEGAL else f"the feed {source or '?'}"
