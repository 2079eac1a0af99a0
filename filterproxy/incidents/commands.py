"""`filterproxy incidents ...`: the ICT manager's view of the incident queue."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from filterproxy import cliargs
from filterproxy.errors import ConfigError, IncidentNotFound
from filterproxy.incidents.digest import build_digest, write_digest
from filterproxy.incidents.export import write_csv, write_json
from filterproxy.incidents.history import history
from filterproxy.incidents.model import Incident, IncidentFilter, Status
from filterproxy.incidents.store import IncidentStore
from filterproxy.incidents.store import open_store as store_of
from filterproxy.incidents.who import person, who

_MOVES = {
    "triage": Status.TRIAGED,
    "report": Status.REPORTED,
    "escalate": Status.ESCALATED,
    "close": Status.CLOSED,
}
_MOVE_HELP = {
    "triage": "mark as triaged (looked at, pupil/device identified)",
    "report": "mark as reported to the Headteacher",
    "escalate": "mark as escalated to the ISP or the police",
    "close": "close the incident (false positive, dealt with, ...)",
}


def register(sub: Any) -> None:
    parser = sub.add_parser("incidents", help="the incident queue: list, triage, export, purge")
    actions = parser.add_subparsers(dest="incidents_command", metavar="ACTION", required=True)
    _add_list_and_show(actions)
    for name, target in _MOVES.items():
        move = actions.add_parser(name, help=_MOVE_HELP[name])
        move.add_argument("id", help="incident number or block page reference")
        move.add_argument("--note", required=True, help="why: recorded in the audit trail")
        move.add_argument("--action", help="what was done (recorded on the incident)")
        move.add_argument("--outcome", help="the outcome (recorded on the incident)")
        move.set_defaults(handler=move_incident, target=target)
    _add_export_purge_digest(actions)


def _add_list_and_show(actions: Any) -> None:
    ls = actions.add_parser("list", help="list incidents, newest first")
    ls.add_argument("--status", choices=[s.value for s in Status], help="only this status")
    ls.add_argument("--category", type=cliargs.category, help="only this category (e.g. selfharm)")
    ls.add_argument("--since", type=when, help="last seen on/after: YYYY-MM-DD, ISO time or Nd (days ago)")
    ls.add_argument("--client", help="only this client IP address")
    ls.add_argument("--user", help="only incidents naming this person (case-insensitive)")
    ls.add_argument("--limit", type=int, default=200, help="at most this many (default 200, 0: all)")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(handler=list_incidents)
    show = actions.add_parser("show", help="one incident with references and audit trail")
    show.add_argument("id", help="incident number or a block page reference (e.g. K7Q-M2XD)")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(handler=show_incident)
    past = actions.add_parser("history", help="a person's incidents around one incident (safeguarding report)")
    past.add_argument("--user", help="the person (default: the one the --around incident names)")
    past.add_argument("--around", metavar="REF", help="incident number or block page reference at the centre")
    past.add_argument("--hours", type=float, default=1.0, help="hours either side of the incident (default 1)")
    past.add_argument("--since", type=when, help="without --around: from this time")
    past.add_argument("--until", type=when, help="without --around: until this time")
    past.add_argument("--json", action="store_true", help="print JSON")
    past.set_defaults(handler=person_history)


def _add_export_purge_digest(actions: Any) -> None:
    export = actions.add_parser("export", help="export incidents for a spreadsheet or another tool")
    fmt = export.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--csv", action="store_true", help="CSV (RFC 4180; formula cells neutralised)")
    fmt.add_argument("--json", action="store_true", help="JSON array")
    export.add_argument("--since", type=when, help="last seen on/after this time")
    export.add_argument("--until", type=when, help="first seen before this time")
    export.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    export.set_defaults(handler=export_incidents)
    purge = actions.add_parser("purge", help="remove client data older than the retention period")
    purge.add_argument("--days", type=int, help="retention in days (default: incidents.retention_days)")
    purge.set_defaults(handler=purge_incidents)
    digest = actions.add_parser("digest", help="print or write the weekly digest now")
    digest.add_argument("--days", type=float, default=7.0, help="period in days (default 7)")
    digest.add_argument("--output", "-o", type=Path, help="directory to write digest-DATE.txt into")
    digest.set_defaults(handler=digest_now)


def when(text: str) -> datetime:
    """``YYYY-MM-DD``, an ISO time (UTC unless it says otherwise) or ``Nd`` for N days ago."""
    text = text.strip()
    if text.endswith("d") and text[:-1].isdigit():
        return datetime.now(UTC) - timedelta(days=int(text[:-1]))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD, ISO time or Nd)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def open_store(args: argparse.Namespace) -> tuple[IncidentStore, Any]:
    from filterproxy.config.loader import load_config

    config = load_config(args.config, data_dir=args.data_dir)
    return store_of(config.incidents, config.data_dir), config


def find(store: IncidentStore, ident: str) -> Incident:
    if ident.isdigit():
        return store.get(int(ident))
    if "-" in ident:
        return store.by_reference(ident)
    raise IncidentNotFound(f"{ident!r} is neither an incident number nor a reference like K7Q-M2XD")


def list_incidents(args: argparse.Namespace) -> int:
    store, _ = open_store(args)
    status = Status(args.status) if args.status else None
    flt = IncidentFilter(
        status=status, category=args.category, since=args.since, client=args.client, user=args.user,
        limit=args.limit or None
    )
    incidents = store.query(flt)
    if args.json:
        write_json(incidents, sys.stdout)
        return 0
    print(
        f"{'ID':>6}  {'STATUS':<9} {'SEV':<6} {'LAST SEEN (UTC)':<16} {'COUNT':>5}  {'CATEGORY':<13} {'SITE':<28} WHO"
    )
    for i in incidents:
        print(
            f"{i.id:>6}  {i.status.value:<9} {i.severity:<6} {i.last_seen:%Y-%m-%d %H:%M} {i.count:>5}  "
            f"{i.category or i.reason:<13} {i.site[:28]:<28} {who(i)}"
        )
    return 0


def person_history(args: argparse.Namespace) -> int:
    store, _ = open_store(args)
    centre = find(store, args.around) if args.around else None
    if centre is None and not args.user:
        raise ConfigError("incidents history: give --user NAME, --around REF, or both")
    user, since, until, found = history(store, user=args.user, around=centre, since=args.since, until=args.until,
                                        hours=args.hours)
    if args.json:
        write_json(found, sys.stdout)
        return 0
    span = f"{since:%Y-%m-%d %H:%M}" if since else "the start"
    span += f" to {until:%Y-%m-%d %H:%M} UTC" if until else " to now"
    print(f"{user}: {len(found)} incident(s) from {span}")
    for i in found:
        mark = "*" if centre is not None and i.id == centre.id else " "
        print(f"{mark}{i.id:>6}  {i.first_seen:%H:%M:%S} {i.count:>4}x {i.verdict:<5} {i.category or i.reason:<13} "
              f"{i.host[:40]:<40} {i.protocol:<5} {who(i)}")
    return 0


def show_incident(args: argparse.Namespace) -> int:
    store, _ = open_store(args)
    incident = find(store, args.id)
    if args.json:
        print(json.dumps(incident.model_dump(mode="json"), indent=2))
        return 0
    data = incident.model_dump(exclude={"references", "transitions"})
    if incident.user:
        data["user"] = person(incident)  # with the source of the identification and its age
    for key, value in data.items():
        if value not in (None, ""):
            print(f"{key:>13}: {getattr(value, 'value', value)}")
    print(f"{'references':>12}: {' '.join(incident.references)}")
    print("history:")
    for t in incident.transitions:
        print(f"  {t.at:%Y-%m-%d %H:%M} {t.by}: {t.from_status.value} -> {t.to_status.value}: {t.note}")
    return 0


def operator() -> str:
    """The OS user doing the change (the invoking user under sudo)."""
    return os.environ.get("SUDO_USER") or getpass.getuser()


def move_incident(args: argparse.Namespace) -> int:
    if not args.note.strip():
        raise ConfigError("--note must say why")
    store, _ = open_store(args)
    incident = find(store, args.id)
    moved = store.transition(
        incident.id, args.target, operator(), args.note.strip(), action=args.action, outcome=args.outcome
    )
    print(f"incident {moved.id}: {incident.status.value} -> {moved.status.value}")
    return 0


def export_incidents(args: argparse.Namespace) -> int:
    store, _ = open_store(args)
    incidents = store.query(IncidentFilter(since=args.since, until=args.until))
    writer = write_csv if args.csv else write_json
    if args.output is None:
        writer(incidents, sys.stdout)
    else:
        with args.output.open("w", encoding="utf-8", newline="") as out:
            count = writer(incidents, out)
        print(f"wrote {count} incident(s) to {args.output}", file=sys.stderr)
    return 0


def purge_incidents(args: argparse.Namespace) -> int:
    store, config = open_store(args)
    days = args.days if args.days is not None else config.incidents.retention_days
    purged = store.purge(datetime.now(UTC) - timedelta(days=days))
    print(f"removed client data from {purged} incident(s) last seen more than {days} days ago")
    return 0


def digest_now(args: argparse.Namespace) -> int:
    store, _ = open_store(args)
    until = datetime.now(UTC)
    subject, body = build_digest(store, until - timedelta(days=args.days), until)
    if args.output:
        print(f"wrote {write_digest(args.output, until, body)}")
    else:
        print(subject)
        print(body, end="")
    return 0
