"""Walking the configuration models by key path: which keys exist, which hold lists, the nearest name.

Used to check environment overrides before validation (a typo names the variable, not the
file), to split ``a,b`` for list-valued fields, and to suggest the nearest valid key for an
unknown one (difflib).
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class Found:
    """What a key path leads to: a model (its field names), a list field, or another value."""

    model: type[BaseModel] | None = None
    is_list: bool = False


class UnknownKey(Exception):
    """``path[:index]`` is fine, ``path[index]`` is no key of ``names``."""

    def __init__(self, index: int, names: Sequence[str]) -> None:
        super().__init__(index)
        self.index = index
        self.names = list(names)


def walk(model: type[BaseModel], path: Sequence[str]) -> Found:
    """Follow ``path`` (lower-case keys) through ``model``; raise :class:`UnknownKey` at the first bad key."""
    annotation: Any = model
    for index, key in enumerate(path):
        found = _classify(annotation)
        if found[0] == "model":
            cls = found[1]
            if key not in cls.model_fields:
                raise UnknownKey(index, sorted(cls.model_fields))
            annotation = cls.model_fields[key].annotation
        elif found[0] == "dict":
            annotation = found[1]  # any key names an entry; its value has the dict's value type
        elif found[0] == "list" and key.isdigit():
            annotation = found[1]
        else:
            return Found()  # a value with no keys of its own: let validation say what is wrong
    kind, inner = _classify(annotation)
    return Found(model=inner if kind == "model" else None, is_list=kind == "list")


def nearest(name: str, names: Sequence[str], cutoff: float = 0.6) -> str | None:
    """The closest of ``names`` to a mistyped ``name``, if any is close enough."""
    match = difflib.get_close_matches(name, names, n=1, cutoff=cutoff)
    return match[0] if match else None


def suggestion(name: str, names: Sequence[str]) -> str:
    """``; did you mean 'x'?`` or, with no close name, the valid keys (when there are few)."""
    close = nearest(name, names)
    if close is not None:
        return f"; did you mean {close!r}?"
    return f"; valid keys: {', '.join(names)}" if names and len(names) <= 12 else ""


def _classify(annotation: Any) -> tuple[str, Any]:
    """("model", cls) | ("dict", value type) | ("list", item type) | ("value", None), unwrapping Optional."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        members = [a for a in get_args(annotation) if a is not type(None)]
        for member in members:
            kind = _classify(member)
            if kind[0] != "value":
                return kind
        return "value", None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "model", annotation
    if origin is dict:
        args = get_args(annotation)
        return "dict", args[1] if len(args) == 2 else Any
    if origin in (list, tuple, set, frozenset):
        args = get_args(annotation)
        return "list", args[0] if args else Any
    return "value", None
