"""Loading configuration: YAML file, then environment overrides, then validation.

Relative paths in the file are taken relative to the file's directory, so the service
behaves the same whatever directory it is started from. Environment overrides use
``FILTERPROXY__SECTION__FIELD=value`` (values parsed as YAML scalars or flow collections).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from filterproxy.config.model import Config
from filterproxy.config.yamlfile import read_yaml
from filterproxy.errors import ConfigError

ENV_PREFIX = "FILTERPROXY__"
CONFIG_ENV = "FILTERPROXY_CONFIG"
DATA_DIR_ENV = "FILTERPROXY_DATA_DIR"
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "filterproxy.yaml"

# Fields holding paths, as dotted paths from the root: resolved against the config file's directory.
_PATH_FIELDS = (
    ("data_dir",),
    ("lists", "sources_file"),
    ("lists", "local_dir"),
    ("metrics", "password_file"),
    ("categorise", "model"),
)


def default_config_path() -> Path:
    """``$FILTERPROXY_CONFIG`` if set, else the shipped config/filterproxy.yaml."""
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG


def load_config(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    data_dir: Path | None = None,
) -> Config:
    """Load, override and validate the configuration; raise :class:`ConfigError` naming file and field."""
    path = path or default_config_path()
    env = os.environ if env is None else env
    raw = _read_yaml(path)
    _apply_env(raw, env)
    _resolve_paths(raw, path.resolve().parent)
    override = data_dir or (Path(env[DATA_DIR_ENV]) if env.get(DATA_DIR_ENV) else None)
    if override is not None:
        raw["data_dir"] = str(override.resolve())
        if f"{ENV_PREFIX}LISTS__LOCAL_DIR" not in env:
            raw.setdefault("lists", {})["local_dir"] = None  # local lists move with the data directory
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(path, exc)) from exc


def describe_validation_error(path: Path, exc: ValidationError) -> str:
    """One line per problem: ``file: field.path: message (got value)``."""
    lines = [f"{path}: invalid configuration ({exc.error_count()} problem(s))"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
        lines.append(f"  {path}: {where}: {err['msg']}{shown}")
    return "\n".join(lines)


def _read_yaml(path: Path) -> dict[str, Any]:
    data = read_yaml(path, "configuration")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, got {type(data).__name__}")
    return data


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in key[len(ENV_PREFIX) :].split("__") if p]
        node = raw
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        try:
            node[parts[-1]] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise ConfigError(f"environment {key}: not a valid value: {exc}") from exc


def _resolve_paths(raw: dict[str, Any], base: Path) -> None:
    for dotted in _PATH_FIELDS:
        node: Any = raw
        for part in dotted[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(dotted[-1]), str):
            node[dotted[-1]] = str((base / node[dotted[-1]]).resolve())
    node = raw.get("lists")
    if isinstance(node, dict):
        for src in node.get("sources") or []:
            if isinstance(src, dict) and isinstance(src.get("path"), str):
                src["path"] = str((base / src["path"]).resolve())
    if raw.get("data_dir") is None:
        raw["data_dir"] = str((base / "var").resolve())
