"""`filterproxy selftest [--group G]`: probe the running filter; exit 1 when any probe fails."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from filterproxy.config.loader import load_config
from filterproxy.errors import SelftestError
from filterproxy.selftest.results import append_run
from filterproxy.selftest.runner import print_table, run_group


def register(sub: Any) -> None:
    selftest = sub.add_parser(
        "selftest",
        help="probe the running resolver and proxy (blocked categories, reachable educational sites)",
        description="Sends a probe per category (<category>.filterproxy-selftest.example, in the "
        "starter lists), the configured probes and the educational sites to the running resolver and proxy. "
        "Prints a pass/fail table, stores the run in <data_dir>/selftest/results.jsonl and exits 1 on any "
        "failure: a category that is not blocked, or an educational site without a real answer (blocked, "
        "NXDOMAIN, SERVFAIL, HTTP 4xx/5xx). Probes carry a token made with <data_dir>/selftest/probe.key, so "
        "the service never files them as incidents: run it with the service's data directory.",
    )
    selftest.add_argument("--group", action="append", default=None,
                          help="group to test as (repeatable; default: the default group)")
    selftest.add_argument("--all-groups", action="store_true", help="test every configured group")
    selftest.add_argument("--json", action="store_true", help="print the runs as JSON instead of a table")
    selftest.add_argument("--no-store", action="store_true", help="do not record the run")
    selftest.set_defaults(handler=selftest_command)


def selftest_command(args: argparse.Namespace) -> int:
    config = load_config(args.config, data_dir=args.data_dir)
    settings = config.selftest
    groups = sorted(config.policy.groups) if args.all_groups else args.group or [config.policy.default_group]
    runs = []
    for group in groups:
        try:
            runs.append(run_group(config, settings, group))
        except SelftestError as exc:
            if not args.all_groups:
                raise
            print(f"filterproxy: skipping group {group}: {exc}", file=sys.stderr)  # the others still run
    if not runs:
        raise SelftestError("no group could be tested")
    for run in runs:
        if not args.no_store:
            append_run(config.data_dir, run)
        if not args.json:
            print_table(run, sys.stdout)
    if args.json:
        print(json.dumps([run.to_json() for run in runs], indent=2))
    return 0 if all(run.passed for run in runs) else 1
