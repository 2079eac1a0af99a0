"""`filterproxy review --from DATE --to DATE --out FILE.html`: the annual filter review."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from filterproxy.config.loader import load_config
from filterproxy.errors import ConfigError
from filterproxy.files import write_atomic
from filterproxy.review.figures import Period
from filterproxy.review.gather import gather
from filterproxy.review.report import build_context, render


def register(sub: Any) -> None:
    review = sub.add_parser(
        "review",
        help="write the annual filtering and monitoring review (HTML)",
        description="Build the annual review from incidents, the list audit log, self-tests, list sources "
        "and (when metrics.prometheus_url is set) Prometheus history.",
    )
    review.add_argument("--from", dest="first", required=True, type=_date, help="first day, YYYY-MM-DD")
    review.add_argument("--to", dest="last", required=True, type=_date, help="last day, included")
    review.add_argument("--out", required=True, type=Path, help="output file (.html)")
    review.add_argument("--stale-days", type=int, default=7, help="flag list sources older than this (days)")
    review.set_defaults(handler=review_command)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def review_command(args: argparse.Namespace) -> int:
    if args.last < args.first:
        raise ConfigError(f"--to {args.last} is before --from {args.first}")
    if args.out.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"--out {args.out}: only .html is supported (print it to PDF from a browser)")
    config = load_config(args.config, data_dir=args.data_dir)
    data = build_context(gather(config, Period(args.first, args.last), stale_days=args.stale_days))
    write_atomic(args.out, render(data))
    print(f"review {args.first} to {args.last} written to {args.out}")
    return 0


