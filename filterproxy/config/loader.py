"""Loading configuration: YAML file, then environment overrides, then validation.

Relative paths in the file are taken relative to the file's directory, so the service
behaves the same whatever directory it is started from. Environment overrides use
``FILTERPROXY__SECTION__FIELD=value`` (values parsed as YAML scalars or flow collections; a
list-valued field also takes ``a,b,c``). An override naming no setting is an error that names
the variable (with the nearest valid one), and so is an override whose value is invalid.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from filterproxy.config.fields import Found, UnknownKey, suggestion, walk
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
    ("lists", "download_dir"),
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
    origins = _apply_env(raw, env)
    _resolve_paths(raw, path.resolve().parent)
    override = data_dir or (Path(env[DATA_DIR_ENV]) if env.get(DATA_DIR_ENV) else None)
    if override is not None:
        raw["data_dir"] = str(override.resolve())
        if f"{ENV_PREFIX}LISTS__LOCAL_DIR" not in env:
            raw.setdefault("lists", {})["local_dir"] = None  # local lists move with the data directory
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(path, exc, origins)) from exc


def describe_validation_error(
    path: Path, exc: ValidationError, origins: Mapping[tuple[str, ...], str] | None = None
) -> str:
    """One line per problem: ``file: field.path: message (got value)``; a value that came from an
    environment override names the variable instead of the file."""
    lines = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        where = ".".join(loc) or "(root)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"no such setting{_nearest(loc)}"
        got = err.get("input")
        shown = "" if isinstance(got, dict | list) or str(got) in message else f" (got {got!r})"
        origin = next((var for parts, var in (origins or {}).items() if loc[: len(parts)] == parts), None)
        source = f"environment {origin}" if origin else str(path)
        lines.append(f"  {source}: {where}: {message}{shown}")
    whose = f"{path}" if any(not line.startswith("  environment ") for line in lines) else "environment overrides"
    lines.insert(0, f"{whose}: invalid configuration ({exc.error_count()} problem(s))")
    return "\n".join(lines)


def _nearest(loc: tuple[str, ...]) -> str:
    try:
        found = walk(Config, loc[:-1])
    except UnknownKey:
        return ""
    return suggestion(loc[-1], sorted(found.model.model_fields)) if found.model is not None else ""


def _read_yaml(path: Path) -> dict[str, Any]:
    data = read_yaml(path, "configuration")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections, got {type(data).__name__}")
    return data


def _apply_env(raw: dict[str, Any], env: Mapping[str, str]) -> dict[tuple[str, ...], str]:
    """Apply the overrides; returns the key path each variable set (for error messages)."""
    origins: dict[tuple[str, ...], str] = {}
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in key[len(ENV_PREFIX) :].split("__") if p]
        if not parts:
            raise ConfigError(f"environment {key}: names no setting (FILTERPROXY__SECTION__FIELD=value)")
        found = _env_target(key, parts)
        node = raw
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = _env_value(key, value, found)
        origins[tuple(parts)] = key
    return origins


def _env_target(key: str, parts: list[str]) -> Found:
    try:
        return walk(Config, parts)
    except UnknownKey as exc:
        bad = ".".join(parts[: exc.index + 1])
        hint = suggestion(parts[exc.index], exc.names)
        if "did you mean" in hint:  # as the variable to set, not the YAML key
            close = hint.split("'")[1]
            fixed = [*parts[: exc.index], close, *parts[exc.index + 1 :]]
            hint = f"; did you mean {ENV_PREFIX}{'__'.join(p.upper() for p in fixed)}?"
        raise ConfigError(f"environment {key}: {bad} is not a setting{hint}") from None


def _env_value(key: str, value: str, found: Found) -> Any:
    """YAML for the value; for a list-valued field, ``a,b`` (or nothing) without YAML's brackets too."""
    text = value.strip()
    if found.is_list and not text.startswith("["):
        return [item.strip() for item in text.split(",") if item.strip()]
    try:
        return yaml.safe_load(value)
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
