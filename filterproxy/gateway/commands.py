"""`filterproxy gateway up|down|status`: load, remove and inspect the gateway's nftables table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from filterproxy.config.loader import load_config
from filterproxy.config.types import split_host_port
from filterproxy.gateway.nft import Nft
from filterproxy.gateway.ruleset import plan_from_config, render
from filterproxy.gateway.status import describe

FORWARDING = Path("/proc/sys/net/ipv4/ip_forward")
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def register(sub: Any) -> None:
    gateway = sub.add_parser("gateway", help="transparent gateway mode (nftables)")
    actions = gateway.add_subparsers(dest="gateway_command", metavar="ACTION", required=True)
    up = actions.add_parser("up", help="load (or replace) the gateway ruleset")
    up.add_argument(
        "--dry-run", action="store_true", help="print the ruleset (for `nft -c -f -`) and change nothing"
    )
    up.set_defaults(handler=gateway_up)
    down = actions.add_parser("down", help="remove the gateway ruleset (only our own table)")
    down.set_defaults(handler=gateway_down)
    status = actions.add_parser("status", help="show whether the ruleset is loaded, its counters, set sizes")
    status.set_defaults(handler=gateway_status)


def gateway_up(args: argparse.Namespace) -> int:
    config = load_config(args.config, data_dir=args.data_dir)
    ruleset = render(plan_from_config(config))
    if args.dry_run:
        print(ruleset, end="")
        return 0
    Nft(config.gateway.nft).load(ruleset)
    print(f"gateway: table inet {config.gateway.table} loaded ({config.gateway.mode} mode)")
    for what, listen in (("dns.listen", config.dns.listen), ("proxy.listen", config.proxy.listen)):
        if split_host_port(listen)[0] in LOOPBACK:
            print(f"gateway: warning: {what} is {listen}: redirected clients cannot reach a loopback address")
    if FORWARDING.exists() and FORWARDING.read_text().strip() != "1":
        print("gateway: warning: IPv4 forwarding is off (sysctl net.ipv4.ip_forward=1): clients get nowhere")
    return 0


def gateway_down(args: argparse.Namespace) -> int:
    config = load_config(args.config, data_dir=args.data_dir)
    nft, table = Nft(config.gateway.nft), config.gateway.table
    if nft.table_json(table) is None:
        print(f"gateway: table inet {table} is not loaded")
        return 0
    nft.run(["delete", "table", "inet", table])
    print(f"gateway: table inet {table} removed")
    return 0


def gateway_status(args: argparse.Namespace) -> int:
    config = load_config(args.config, data_dir=args.data_dir)
    table = config.gateway.table
    items = Nft(config.gateway.nft).table_json(table)
    if items is None:
        print(f"gateway: table inet {table} is not loaded")
        return 3
    print(describe(table, items), end="")
    return 0
