"""`filterproxy users ...` (people and roles of the console) and `filterproxy requests ...` (unblock requests)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from filterproxy.config.loader import load_config
from filterproxy.config.model import Config
from filterproxy.console import decisions
from filterproxy.console.audit import console_audit
from filterproxy.console.unblock import RequestStatus, RequestStore, Scope
from filterproxy.console.users import Role, UserStore
from filterproxy.errors import ConsoleError
from filterproxy.incidents.commands import operator
from filterproxy.lists.loader import local_files
from filterproxy.passwords import check_strength, hash_password


def register(sub: Any) -> None:
    users = sub.add_parser("users", help="people who may use the web console, and their roles")
    acts = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = acts.add_parser("add", help="add a person (the first admin is made this way: there is no default)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role],
                     help="admin: everything; safeguarding: incidents and unblock requests; viewer: dashboards, review")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=users_add)
    acts.add_parser("list", help="list people and roles").set_defaults(handler=users_list)
    remove = acts.add_parser("remove", help="remove a person (their sessions end at once)")
    remove.add_argument("name")
    remove.set_defaults(handler=users_remove)
    passwd = acts.add_parser("passwd", help="set a new password (their sessions end at once)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(handler=users_passwd)
    token = acts.add_parser("token", help="make an API token for /api/ (shown once), or --revoke them all")
    token.add_argument("name")
    token.add_argument("--revoke", action="store_true", help="revoke every token of this person")
    token.set_defaults(handler=users_token)
    _register_requests(sub)


def _register_requests(sub: Any) -> None:
    requests = sub.add_parser("requests", help="unblock requests sent from the block page")
    acts = requests.add_subparsers(dest="requests_command", metavar="ACTION", required=True)
    ls = acts.add_parser("list", help="list requests, newest first")
    ls.add_argument("--status", choices=[s.value for s in RequestStatus], help="only this status")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=requests_list)
    approve = acts.add_parser("approve", help="approve: allow the site (through the audited allow path)")
    approve.add_argument("id", type=int)
    how = approve.add_mutually_exclusive_group()
    how.add_argument("--hours", type=float, help="allow for this many hours only")
    how.add_argument("--group", help="allow for this policy group only")
    approve.add_argument("--note", default="", help="a note for the requester and the audit log")
    approve.set_defaults(handler=requests_approve)
    decline = acts.add_parser("decline", help="decline with a note for the requester")
    decline.add_argument("id", type=int)
    decline.add_argument("--note", required=True, help="why (shown to the requester)")
    decline.set_defaults(handler=requests_decline)


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config, data_dir=args.data_dir)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ConsoleError("the two passwords differ")
    weak = check_strength(password)
    if weak:
        raise ConsoleError(weak)
    return password


def users_add(args: argparse.Namespace) -> int:
    config = _config(args)
    user = UserStore(config.data_dir).add(args.name, Role(args.role), hash_password(_password(args)))
    console_audit(local_files(config).audit_log, operator(), "user.add", person=user.name, role=user.role.value)
    print(f"added {user.name} ({user.role.value}); sign in at {config.console.base_url()}/login")
    return 0


def users_list(args: argparse.Namespace) -> int:
    config = _config(args)
    people = UserStore(config.data_dir).all()
    if not people:
        print("no console users yet: make the first admin with "
              "`filterproxy users add NAME --role admin --password-stdin`")
    for user in people.values():
        print(f"{user.name:24} {user.role.value:13} tokens={len(user.tokens)} created={user.created}")
    return 0


def users_remove(args: argparse.Namespace) -> int:
    config = _config(args)
    UserStore(config.data_dir).remove(args.name)
    console_audit(local_files(config).audit_log, operator(), "user.remove", person=args.name)
    print(f"removed {args.name}")
    return 0


def users_passwd(args: argparse.Namespace) -> int:
    config = _config(args)
    UserStore(config.data_dir).set_password(args.name, hash_password(_password(args)))
    console_audit(local_files(config).audit_log, operator(), "user.passwd", person=args.name)
    print(f"password of {args.name} changed; their sessions have ended")
    return 0


def users_token(args: argparse.Namespace) -> int:
    config = _config(args)
    store = UserStore(config.data_dir)
    if args.revoke:
        count = store.revoke_tokens(args.name)
        console_audit(local_files(config).audit_log, operator(), "token.revoke", person=args.name)
        print(f"revoked {count} token(s) of {args.name}")
        return 0
    token = store.new_token(args.name)
    console_audit(local_files(config).audit_log, operator(), "token.add", person=args.name)
    print(token)
    print(f"(shown once; send it as 'Authorization: Bearer <token>' to {config.console.base_url()}/api/)",
          file=sys.stderr)
    return 0


def requests_list(args: argparse.Namespace) -> int:
    config = _config(args)
    found = RequestStore(config.data_dir).all(RequestStatus(args.status) if args.status else None)
    if args.json:
        print(json.dumps([r.to_json() for r in found], indent=2))
        return 0
    print(f"{'ID':>5}  {'STATUS':<9} {'ASKED (UTC)':<16} {'REFERENCE':<10} {'CATEGORY':<13} {'SITE':<28} WHO / REASON")
    for r in found:
        print(f"{r.id:>5}  {r.status.value:<9} {r.created:%Y-%m-%d %H:%M} {r.reference:<10} {r.category:<13} "
              f"{r.site[:28]:<28} {r.who or r.client or '-'}: {r.reason[:60]}")
    return 0


def requests_approve(args: argparse.Namespace) -> int:
    config = _config(args)
    scope = Scope.HOURS if args.hours is not None else Scope.GROUP if args.group else Scope.PERMANENT
    done = decisions.approve(config, RequestStore(config.data_dir), args.id, operator(), args.note, scope,
                             hours=args.hours, group=args.group, max_hours=config.console.max_temporary_hours)
    until = f" until {done.expires_at:%Y-%m-%d %H:%M} UTC" if done.expires_at else ""
    group = f" for group {done.scope_group}" if done.scope_group else ""
    print(f"request {done.id}: approved {done.site}{group}{until}")
    return 0


def requests_decline(args: argparse.Namespace) -> int:
    config = _config(args)
    done = decisions.decline(config, RequestStore(config.data_dir), args.id, operator(), args.note)
    print(f"request {done.id}: declined ({done.note})")
    return 0
