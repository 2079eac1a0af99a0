"""`filterproxy check`: what happens to this name or URL, for this client, at this time, and why.

The CLI layer, not the core: it loads the configuration, the lists (:func:`load_engine`, the very
function `filterproxy serve` builds the DNS and HTTP paths' engine with) and the person's directory
groups, then asks :meth:`Engine.classify`, so `check` (and ``check --json``) answers with the same
steps as DNS and HTTP: lists, then the hostname model, then content findings.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filterproxy.classify.engine import Engine
from filterproxy.classify.normalise import split_url
from filterproxy.config.loader import load_config
from filterproxy.errors import ConfigError
from filterproxy.lists.explain import explain, source_line
from filterproxy.lists.loader import load_engine, resolve_sources
from filterproxy.model import IPAddress, Query


def register(sub: Any) -> None:
    check = sub.add_parser("check", help="classify names or URLs and say why")
    check.add_argument("names", nargs="*", metavar="NAME_OR_URL", help="domain, host/path or URL")
    check.add_argument("--from-file", type=Path, help="read names from a file, one per line ('-' for stdin)")
    check.add_argument(
        "--client", default="192.0.2.1",
        help="client IP deciding the group (default: 192.0.2.1, in no group's networks, so the default group: "
        "policy.default_group, pupils in the shipped config)",
    )
    check.add_argument("--at", help="ISO time to evaluate schedules at (default: now)")
    check.add_argument("--user", help="the person asking: their directory groups (LDAP, user file, RADIUS) "
                       "decide the group before the client's network")
    check.add_argument("--directory-group", action="append", default=[], metavar="DN",
                       help="a directory group of the person (LDAP DN or RADIUS Class/Filter-Id); repeatable")
    check.add_argument("--json", action="store_true", help="one JSON object per name per line")
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    client = _client(args.client)
    at = _when(args.at)
    names = [*args.names, *_read_names(args.from_file)]
    if not names:
        raise ConfigError("check: give at least one name or URL (or --from-file)")
    config = load_config(args.config, data_dir=args.data_dir)
    engine = load_engine(config)
    sources = {s.id: s for s in resolve_sources(config)}
    user, directory, why = _person(config, args)
    for name in names:
        host, path = split_url(name) if "/" in name else (name, None)
        verdict = engine.classify(Query(client, host, at, path if path != "/" else None, user, directory))
        line = source_line(sources.get(verdict.source or ""), verdict.rule) if verdict.rule else None
        record = explain(name, verdict, line)
        if user is not None or directory:
            record.update(_group_reason(engine, client, user, directory, why))
        print(json.dumps(record) if args.json else _text(record))
    return 0


def _person(config: Any, args: argparse.Namespace) -> tuple[str | None, tuple[str, ...], list[str]]:
    """The person's name, directory groups and where each came from (pure data for the core)."""
    directory = list(args.directory_group)
    why = [f"--directory-group {d}" for d in directory]
    if args.user:
        from filterproxy.identity.lookup import directory_of

        for found in directory_of(config, args.user):
            directory.extend(found.directory)
            why.append(f"{found.source} ({found.detail}): {', '.join(found.directory) or 'no groups'}")
        if not why:
            why.append(f"{args.user} is in no identity source")
    return args.user, tuple(dict.fromkeys(directory)), why


def _group_reason(
    engine: Engine, client: IPAddress, user: str | None, directory: tuple[str, ...], why: list[str]
) -> dict[str, Any]:
    policy = engine.current.policy
    network = policy.group_of(client)
    by_person = policy.directory_group(directory) if directory else None
    if by_person is not None:
        reason = f"{user or 'the person'}'s directory group gives {by_person} (beats the network's {network})"
    else:
        reason = f"no directory group of {user or 'the person'} names a policy group: the network's {network}"
    return {"user": user, "directory_groups": list(directory), "identity_sources": why, "group_reason": reason}


def _text(record: dict[str, Any]) -> str:
    where = record["source"] or "-"
    if record.get("file"):
        where += f" ({record['file']}:{record['line']})"
    why = f"category={record['category'] or '-'} group={record['group']} reason={record['reason']}"
    text = f"{record['name']}\t{record['action'].upper()}\t{why} source={where} rule={record['rule'] or '-'}"
    if "group_reason" in record:
        text += f"\n  group: {record['group_reason']}" + "".join(f"\n  from: {w}" for w in record["identity_sources"])
    if record.get("score") is not None:
        text += f" score={record['score']:.2f} evidence={','.join(record['evidence']) or '-'}"
    return text


def _client(text: str) -> IPAddress:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise ConfigError(f"--client: not an IP address: {text!r}") from None


def _when(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--at: not an ISO time: {text!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _read_names(path: Path | None) -> list[str]:
    if path is None:
        return []
    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]
