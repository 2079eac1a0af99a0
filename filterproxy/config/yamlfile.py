"""Reading a YAML file into plain data, with errors that name the file (and line and column)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from filterproxy.errors import ConfigError


def read_yaml(path: Path, what: str) -> Any:
    """The parsed document at ``path``; ``what`` names the file in errors ("configuration", ...)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: {what} is not UTF-8 text ({exc.reason})") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from exc
