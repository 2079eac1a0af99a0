"""The ICT manager's list commands: stats, add/remove, allow/unallow, reload, update, compile."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filterproxy.config.loader import load_config
from filterproxy.config.model import Config
from filterproxy.errors import ConfigError
from filterproxy.lists import editing
from filterproxy.lists.loader import load_index, local_files, resolve_sources
from filterproxy.lists.local import read_names
from filterproxy.lists.reload import RELOAD_FILE
from filterproxy.model import Category


def register(sub: Any) -> None:
    lists = sub.add_parser("lists", help="category lists and the school's local lists")
    ls = lists.add_subparsers(dest="lists_command", metavar="ACTION", required=True)
    stats = ls.add_parser("stats", help="entries per category and source, bad lines, age")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=run_stats)
    for verb, helptext in (("add", "add names to the local deny list of a category"),
                           ("remove", "remove names from the local deny list of a category")):
        cmd = ls.add_parser(verb, help=helptext)
        cmd.add_argument("category", choices=[c.value for c in Category])
        _edit_args(cmd)
        cmd.set_defaults(handler=run_edit, verb=verb)
    ls.add_parser("reload", help="ask the running service to reload its lists").set_defaults(handler=run_reload)
    ls.add_parser("compile", help="build the compiled index now").set_defaults(handler=run_compile)
    update = ls.add_parser("update", help="download the sources that have a URL (ETag aware)")
    update.add_argument("--timeout", type=float, default=60.0, help="seconds per network operation")
    update.add_argument("--force", action="store_true", help="install even a list that lost over half its entries")
    update.set_defaults(handler=run_update)
    for verb, helptext in (("allow", "add names to the school's allow list"),
                           ("unallow", "remove names from the school's allow list")):
        cmd = sub.add_parser(verb, help=helptext)
        _edit_args(cmd)
        cmd.set_defaults(handler=run_edit, verb=verb, category=None)


def _edit_args(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("names", nargs="*", metavar="DOMAIN")
    cmd.add_argument("--from-file", type=Path, help="read names from a file, one per line")
    cmd.add_argument("--reason", required=True, help="why (kept in the audit log for the annual review)")


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config, data_dir=args.data_dir)


def run_edit(args: argparse.Namespace) -> int:
    config = _config(args)
    names = list(args.names) + (read_names(args.from_file) if args.from_file else [])
    if not names:
        raise ConfigError(f"{args.verb}: give at least one domain (or --from-file)")
    category = Category(args.category) if args.category else None
    changed = editing.edit(config, args.verb, names, args.reason, category)
    target = f"{args.category} deny list" if category else "allow list"
    print(f"{args.verb}: {len(changed)} of {len(names)} name(s) changed the {target}")
    for name in changed:
        print(f"  {name}")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    config = _config(args)
    index = load_index(config)
    now = time.time()
    rows: list[dict[str, Any]] = [
        {
            "source": s.id, "category": s.category.value, "entries": s.entries, "bad_lines": s.bad_lines,
            "unsupported_lines": s.skipped, "age_days": round((now - s.mtime) / 86400, 1) if s.mtime else None,
            "licence": s.licence, "path": s.path, "errors": list(s.errors), "stale": s.stale or None,
        }
        for s in index.sources
    ]
    files = local_files(config)
    local = {"allow": len(read_names(files.allow_file))}
    local.update({c.value: len(read_names(files.deny_file(c))) for c in Category if files.deny_file(c).exists()})
    built = datetime.fromtimestamp(index.built_at, UTC).isoformat(timespec="seconds")
    if args.json:
        print(json.dumps({"built_at": built, "sources": rows, "local": local}, indent=2))
        return 0
    print(f"index built {built}: {index.entry_count} entries from {len(rows)} sources")
    print(f"{'source':32} {'category':14} {'entries':>9} {'bad':>6} {'age(d)':>7}  licence")
    for r in rows:
        print(f"{r['source']:32} {r['category']:14} {r['entries']:>9} {r['bad_lines']:>6} "
              f"{r['age_days'] if r['age_days'] is not None else '-':>7}  {r['licence']}")
        if r["stale"]:
            print(f"    STALE: {r['stale']}")
        for error in r["errors"][:2]:
            print(f"    {error}")
    print("local lists: " + ", ".join(f"{k}={v}" for k, v in local.items()))
    return 0


def run_reload(args: argparse.Namespace) -> int:
    config = _config(args)
    request = config.data_dir / RELOAD_FILE
    request.parent.mkdir(parents=True, exist_ok=True)
    request.write_text(datetime.now(UTC).isoformat() + "\n")
    print(f"reload requested ({request}); the running service reloads within "
          f"{config.lists.watch_interval:g}s (or send it SIGHUP)")
    return 0


def run_compile(args: argparse.Namespace) -> int:
    config = _config(args)
    started = time.monotonic()
    index = load_index(config)
    print(f"compiled index {index.fingerprint}: {index.entry_count} entries in {time.monotonic() - started:.1f}s")
    return 0


def run_update(args: argparse.Namespace) -> int:
    from filterproxy.lists.update import update_sources

    config = _config(args)
    results = update_sources(resolve_sources(config), config.data_dir / "lists", timeout=args.timeout,
                             max_bad_share=config.lists.max_bad_share, force=args.force)
    if not results:
        print("no enabled source has a url: nothing to download (see blocklists/sources.yaml)")
    for result in results:
        print(result)
    return 1 if any(not r.ok for r in results) else 0
