"""`filterproxy config check`: validate a configuration and print the effective values."""

from __future__ import annotations

import argparse
import json
from typing import Any

from filterproxy.config.loader import default_config_path, load_config


def register(sub: Any) -> None:
    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = config_sub.add_parser("check", help="validate the configuration and print the effective config")
    check.add_argument("--json", action="store_true", help="print JSON instead of YAML")
    check.set_defaults(handler=check_config)


def check_config(args: argparse.Namespace) -> int:
    import yaml

    path = args.config or default_config_path()
    config = load_config(path, data_dir=args.data_dir)
    effective = config.model_dump(mode="json")
    if args.json:
        print(json.dumps(effective, indent=2))
    else:
        print(f"# effective configuration from {path}")
        print(yaml.safe_dump(effective, sort_keys=False), end="")
    return 0
