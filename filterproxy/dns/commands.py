"""`filterproxy dns`: run the filtering resolver alone (with the incident queue and /metrics)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Coroutine
from typing import Any

from filterproxy.config.loader import load_config
from filterproxy.config.model import Config
from filterproxy.dns.settings import DnsSettings
from filterproxy.metrics.commands import add_metrics_argument, apply_metrics_argument


def register(sub: Any) -> None:
    parser = sub.add_parser("dns", help="run the filtering DNS resolver")
    parser.add_argument("--listen", metavar="HOST:PORT", help="UDP and TCP listen address (default: dns.listen)")
    parser.add_argument(
        "--upstream",
        metavar="HOST:PORT,...",
        help="comma-separated upstreams, e.g. 127.0.0.1:53,tls://1.1.1.1:853#one.one.one.one",
    )
    add_metrics_argument(parser)
    parser.set_defaults(handler=run_dns)


def with_overrides(config: Config, args: argparse.Namespace) -> Config:
    """The configuration with the command-line overrides applied (validated like the file)."""
    dns = config.dns.model_dump()
    dns["enabled"] = True  # asked for by name: run it even if `serve` leaves it off
    if args.listen:
        dns["listen"] = args.listen
    if args.upstream:
        dns["upstreams"] = [u.strip() for u in args.upstream.split(",") if u.strip()]
    config = config.model_copy(update={"dns": DnsSettings.model_validate(dns)})
    return apply_metrics_argument(config, args.metrics)


def run_dns(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from filterproxy.config.loader import default_config_path, describe_validation_error
    from filterproxy.errors import ConfigError

    path = args.config or default_config_path()
    try:
        config = with_overrides(load_config(path, data_dir=args.data_dir), args)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(path, exc)) from exc
    run_loop(_serve(config))
    return 0


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (its C datagram path costs less per query), else asyncio."""
    try:
        import uvloop  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


async def _serve(config: Config) -> None:
    from filterproxy.service import build_service, run_service

    await run_service(build_service(config, dns=True, proxy=False))
