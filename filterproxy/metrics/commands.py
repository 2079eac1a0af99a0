"""`filterproxy metrics ...` and the shared `--metrics HOST:PORT` option of serve, dns and proxy."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from pydantic import ValidationError

from filterproxy.config.model import Config
from filterproxy.errors import ConfigError
from filterproxy.metrics.auth import hash_password
from filterproxy.metrics.settings import MetricsSettings


def register(sub: Any) -> None:
    metrics = sub.add_parser("metrics", help="Prometheus metrics tools")
    metrics_sub = metrics.add_subparsers(dest="metrics_command", metavar="ACTION", required=True)
    hashp = metrics_sub.add_parser(
        "hash-password", help="print a metrics.password_hash value for a basic-auth password"
    )
    hashp.add_argument("--stdin", action="store_true", help="read the password from standard input")
    hashp.set_defaults(handler=hash_password_command)


def hash_password_command(args: argparse.Namespace) -> int:
    if args.stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("metrics password: ")
        if password != getpass.getpass("again: "):
            raise ConfigError("the two passwords differ")
    if not password:
        raise ConfigError("an empty password cannot protect /metrics")
    print(hash_password(password))
    return 0


def add_metrics_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--metrics HOST:PORT`` to a runtime command (serve, dns, proxy)."""
    parser.add_argument(
        "--metrics",
        metavar="HOST:PORT",
        default=None,
        help="serve Prometheus metrics on HOST:PORT (overrides metrics.listen; 'off' disables)",
    )


def apply_metrics_argument(config: Config, value: str | None) -> Config:
    """The configuration with ``--metrics`` applied (unchanged when the option was not given)."""
    if value is None:
        return config
    update: dict[str, Any] = {"enabled": False} if value == "off" else {"enabled": True, "listen": value}
    try:
        metrics = MetricsSettings.model_validate({**config.metrics.model_dump(), **update})
    except ValidationError as exc:
        raise ConfigError(f"--metrics {value}: {exc.errors()[0]['msg']}") from exc
    return config.model_copy(update={"metrics": metrics})
