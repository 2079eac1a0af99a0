"""Loading ``blocklists/sources.yaml``: the list sources a school uses, with licence and origin.

The file holds one key, ``sources:``, a list of :class:`SourceSettings` mappings. Relative
``path`` values are taken relative to the file, so the lists work wherever the tree is installed.
Every problem raises :class:`ConfigError` naming the file, the entry (index and id) and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from filterproxy.config.yamlfile import read_yaml
from filterproxy.errors import ConfigError
from filterproxy.lists.settings import SourceSettings

__all__ = ["load_sources", "parse_sources"]


def load_sources(path: Path) -> list[SourceSettings]:
    """The sources listed in the YAML file at ``path`` (paths resolved against its directory)."""
    data = read_yaml(path, "sources file")
    return parse_sources(data, path)


def parse_sources(data: Any, path: Path) -> list[SourceSettings]:
    """Validate the loaded YAML document of the sources file at ``path``."""
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"sources"}:
        keys = ", ".join(sorted(map(str, data))) if isinstance(data, dict) else type(data).__name__
        raise ConfigError(f"{path}: expected a mapping with only a 'sources:' list, got {keys}")
    entries = data.get("sources") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'sources' must be a list, got {type(entries).__name__}")
    base = path.resolve().parent
    sources: list[SourceSettings] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries):
        source = _source(entry, number, base, path)
        if source.id in seen:
            raise ConfigError(f"{path}: sources[{number}] ({source.id}): duplicate id, "
                              f"also used by sources[{seen[source.id]}]")  # fmt: skip
        seen[source.id] = number
        sources.append(source)
    return sources


def _source(entry: Any, number: int, base: Path, path: Path) -> SourceSettings:
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: sources[{number}]: expected a mapping, got {type(entry).__name__}")
    label = f"sources[{number}] ({entry.get('id', 'no id')})"
    raw = dict(entry)
    if isinstance(raw.get("path"), str) and raw["path"]:
        raw["path"] = str(base / Path(raw["path"]).expanduser())
    try:
        return SourceSettings.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(entry)"
            got = err.get("input")
            shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
            problems.append(f"{path}: {label}: {where}: {err['msg']}{shown}")
        raise ConfigError("\n".join(problems)) from exc
