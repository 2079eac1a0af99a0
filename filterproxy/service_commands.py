"""`filterproxy serve`: run the resolver, proxy, incident queue and metrics together."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from filterproxy.config.loader import load_config
from filterproxy.metrics.commands import add_metrics_argument, apply_metrics_argument
from filterproxy.service import build_service, run_service


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the whole service (resolver, proxy, incidents, metrics)")
    serve.add_argument("--no-dns", action="store_true", help="do not run the resolver")
    serve.add_argument("--no-proxy", action="store_true", help="do not run the proxy")
    serve.add_argument("--no-console", action="store_true", help="do not run the web console")
    add_metrics_argument(serve)
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    if args.verbose == 0:
        logging.getLogger().setLevel(logging.INFO)
    config = apply_metrics_argument(load_config(args.config, data_dir=args.data_dir), args.metrics)
    service = build_service(config, dns=not args.no_dns, proxy=not args.no_proxy, console=not args.no_console)
    from filterproxy.dns.commands import run_loop

    run_loop(run_service(service))  # uvloop, as `filterproxy dns` and bench.dns run (asyncio without it)
    return 0
