"""The `filterproxy` command: subcommands map one-to-one onto library calls.

Each package contributes its subcommands through a ``commands`` module exposing
``register(subparsers)``; this module only wires global options and error reporting.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from filterproxy import __version__
from filterproxy.errors import FilterproxyError

Handler = Callable[[argparse.Namespace], int]

# Packages whose `commands` module adds subcommands, in the order `--help` lists them.
COMMAND_MODULES = (
    "filterproxy.service_commands",
    "filterproxy.config.commands",
    "filterproxy.check_commands",
    "filterproxy.categorise.commands",
    "filterproxy.lists.commands",
    "filterproxy.dns.commands",
    "filterproxy.http.commands",
    "filterproxy.incidents.commands",
    "filterproxy.metrics.commands",
    "filterproxy.selftest.commands",
    "filterproxy.review.commands",
    "filterproxy.gateway.commands",
    "filterproxy.identity.commands",
    "filterproxy.console.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="filterproxy", description="Internet filter for school networks.")
    parser.add_argument("--version", action="version", version=f"filterproxy {__version__}")
    parser.add_argument(
        "--config", type=Path, default=None, help="configuration file (default: $FILTERPROXY_CONFIG or the shipped one)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="state directory (default: $FILTERPROXY_DATA_DIR or config)"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a package that has no commands yet
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except FilterproxyError as exc:
        print(f"filterproxy: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
