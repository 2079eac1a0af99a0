"""`filterproxy identity ...`: the local proxy user file and the RADIUS sessions."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from typing import Any

from filterproxy.errors import ConfigError


def register(sub: Any) -> None:
    parser = sub.add_parser("identity", help="who is behind each address: proxy users, RADIUS sessions")
    actions = parser.add_subparsers(dest="identity_command", metavar="ACTION", required=True)
    passwd = actions.add_parser("passwd", help="add a proxy user to the local user file, or set their password")
    passwd.add_argument("user", help="login name")
    passwd.add_argument("--groups", default="", help="directory groups, ';'-separated (e.g. staff;cn=it,dc=school)")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(handler=set_password)
    sessions = actions.add_parser("sessions", help="the live RADIUS sessions (address -> person) saved in data_dir")
    sessions.add_argument("--json", action="store_true", help="print JSON")
    sessions.set_defaults(handler=list_sessions)


def set_password(args: argparse.Namespace) -> int:
    from filterproxy.config.loader import load_config
    from filterproxy.identity.userfile import set_user

    config = load_config(args.config, data_dir=args.data_dir)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.user}: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("identity passwd: the passwords differ")
    if len(password) < 8:
        raise ConfigError("identity passwd: use at least 8 characters")
    groups = tuple(g.strip() for g in args.groups.split(";") if g.strip())
    path = config.data_dir / config.identity.proxy_auth.users_file
    set_user(path, args.user, password, groups)
    print(f"{args.user}: password set in {path}" + (f" (groups: {'; '.join(groups)})" if groups else ""))
    return 0


def list_sessions(args: argparse.Namespace) -> int:
    from filterproxy.config.loader import load_config
    from filterproxy.identity.runtime import SESSIONS_FILE
    from filterproxy.identity.sessions import SessionMap

    config = load_config(args.config, data_dir=args.data_dir)
    sessions = SessionMap(config.identity.radius.max_sessions)
    sessions.load(config.data_dir / SESSIONS_FILE)
    rows: list[dict[str, Any]] = [{"address": str(a), "user": s.identity.user, "directory": list(s.identity.directory),
             "since": s.identity.since, "expires": s.expires, "nas": s.nas} for a, s in sessions.snapshot().items()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    now = time.time()
    print(f"{len(rows)} live session(s) (as last saved by the running service)")
    for row in rows:
        print(f"  {row['address']:<39} {row['user']:<24} {int((now - row['since']) // 60):>5} min  "
              f"{';'.join(row['directory']) or '-'}  (nas {row['nas']})")
    return 0
