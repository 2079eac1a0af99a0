"""Argument types shared by the subcommands: values checked at parse time, with the nearest valid one."""

from __future__ import annotations

import argparse

from filterproxy.config.fields import nearest
from filterproxy.model import Category

CATEGORY_NAMES = [c.value for c in Category]


def category(text: str) -> str:
    """A category id (any case); anything else is refused with the nearest id and the full list."""
    value = text.strip().lower()
    if value in CATEGORY_NAMES:
        return value
    close = nearest(value, CATEGORY_NAMES)
    hint = f"; did you mean {close!r}?" if close else ""
    raise argparse.ArgumentTypeError(
        f"unknown category {text!r}{hint} (categories: {', '.join(CATEGORY_NAMES)})"
    )
