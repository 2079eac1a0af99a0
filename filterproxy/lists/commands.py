"""The ICT manager's list commands: stats, add/remove, allow/unallow, reload, update, compile."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filterproxy.config.loader import load_config
from filterproxy.config.model import Config
from filterproxy.errors import ConfigError
from filterproxy.lists import editing
from filterproxy.lists.enable import set_enabled
from filterproxy.lists.loader import load_index, local_files, resolve_sources
from filterproxy.lists.local import read_names
from filterproxy.lists.overrides import override_path, read_overrides
from filterproxy.lists.reload import RELOAD_FILE
from filterproxy.lists.state import SourceState, read_states, state_dir
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
    for verb, helptext in (("enable", "use list sources (kept in <data_dir>/lists/enabled.json, audited)"),
                           ("disable", "stop using list sources (kept in <data_dir>/lists/enabled.json, audited)")):
        cmd = ls.add_parser(verb, help=helptext)
        cmd.add_argument("ids", nargs="+", metavar="ID", help="source id, as `lists stats` shows it")
        cmd.add_argument("--reason", required=True, help="why (kept in the audit log for the annual review)")
        cmd.set_defaults(handler=run_enable, enabled=verb == "enable")
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


def run_enable(args: argparse.Namespace) -> int:
    config = _config(args)
    changes = set_enabled(config, args.ids, args.enabled, args.reason)
    verb = "enabled" if args.enabled else "disabled"
    for change in changes:
        print(f"{change.source_id}: {verb}" + ("" if change.changed else f" (already {verb})"))
    if any(c.changed for c in changes):
        print(f"reload requested; the running service picks it up within {config.lists.watch_interval:g}s "
              "(`filterproxy lists update` downloads a newly enabled remote source now)")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    config = _config(args)
    index = load_index(config)
    now = time.time()
    sources = resolve_sources(config)
    overrides = read_overrides(config.data_dir)
    states = read_states(state_dir(config.data_dir), sources)
    rows: list[dict[str, Any]] = [
        {
            "source": s.id, "category": s.category.value, "enabled": True, "overridden": s.id in overrides,
            "entries": s.entries, "bad_lines": s.bad_lines,
            "unsupported_lines": s.skipped, "age_days": round((now - s.mtime) / 86400, 1) if s.mtime else None,
            "licence": s.licence, "path": s.path, "errors": list(s.errors), "stale": s.stale or None,
            "download": _download(states.get(s.id), now),
        }
        for s in index.sources
    ]
    rows.extend({"source": s.id, "category": s.category.value, "enabled": False, "overridden": s.id in overrides,
                 "entries": None, "bad_lines": None, "unsupported_lines": None, "age_days": None,
                 "licence": s.licence, "path": str(s.path), "errors": [], "stale": None, "download": None}
                for s in sources if not s.enabled)
    files = local_files(config)
    local = {"allow": len(read_names(files.allow_file))}
    local.update({c.value: len(read_names(files.deny_file(c))) for c in Category if files.deny_file(c).exists()})
    built = datetime.fromtimestamp(index.built_at, UTC).isoformat(timespec="seconds")
    mode = "offline" if config.lists.offline else (f"mirror {config.lists.mirror}" if config.lists.mirror else "online")
    if args.json:
        print(json.dumps({"built_at": built, "downloads": mode, "sources": rows, "local": local}, indent=2))
        return 0
    enabled = [r for r in rows if r["enabled"]]
    print(f"index built {built}: {index.entry_count} entries from {len(enabled)} sources; downloads: {mode}")
    print(f"{'source':32} {'category':14} {'entries':>9} {'bad':>6} {'age(d)':>7}  {'download':9} licence")
    for r in enabled:
        age = r["age_days"]  # a downloaded list: since last confirmed current, else the file's age
        if r["download"] and r["download"]["age_hours"] is not None:
            age = round(r["download"]["age_hours"] / 24, 1)
        print(f"{r['source']:32} {r['category']:14} {r['entries']:>9} {r['bad_lines']:>6} "
              f"{age if age is not None else '-':>7}  "
              f"{r['download']['status'] if r['download'] else 'local':9} {r['licence']}")
        if r["download"] and r["download"]["last_error"]:
            print(f"    last error: {r['download']['last_error']}")
        if r["stale"]:
            print(f"    STALE: {r['stale']}")
        for error in r["errors"][:2]:
            print(f"    {error}")
    overridden = [r for r in rows if r["overridden"]]
    for r in overridden:
        print(f"{r['source']}: {'enabled' if r['enabled'] else 'disabled'} by override "
              f"({override_path(config.data_dir)}; sources.yaml says {'disabled' if r['enabled'] else 'enabled'})")
    disabled = [r["source"] for r in rows if not r["enabled"]]
    if disabled:
        print(f"disabled ({len(disabled)}): {', '.join(disabled)}")
    print("local lists: " + ", ".join(f"{k}={v}" for k, v in local.items()))
    return 0


def _download(state: SourceState | None, now: float) -> dict[str, Any] | None:
    """A remote source's download state for ``stats`` (None for a local file)."""
    if state is None:
        return None
    age = state.age(now)
    return {
        "status": state.status,
        "checked_at": _iso(state.checked_at),
        "age_hours": None if age is None else round(age / 3600, 1),
        "entries": state.entries,
        "last_error": state.last_error,
        "attempt_at": _iso(state.attempt_at),
    }


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


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
    from filterproxy.lists.progress import for_terminal
    from filterproxy.lists.update import update_sources

    config = _config(args)
    if config.lists.offline:
        print("lists.offline is set (FILTERPROXY__LISTS__OFFLINE): nothing is downloaded; "
              "the lists on disk stay in use", file=sys.stderr)
        return 1
    results = update_sources(resolve_sources(config), state_dir(config.data_dir), timeout=args.timeout,
                             max_bad_share=config.lists.max_bad_share, force=args.force,
                             mirror=config.lists.mirror, progress=for_terminal())
    if not results:
        print("no enabled source has a url: nothing to download (see blocklists/sources.yaml)")
    for result in results:
        print(result)
    return 1 if any(not r.ok for r in results) else 0
