"""``filterproxy lists update``: refresh downloadable sources, never losing the last good copy.

For every enabled source with a ``url``: a conditional GET (ETag / If-Modified-Since), the body
streamed to a temporary file beside ``source.path``, verified (optional ``sha256``; it must parse
into at least one entry with no more malformed lines than the source tolerates, and keep at least
half the entries of the copy it replaces unless forced), fsynced and renamed over the old copy.
Any failure leaves the old copy in place and says why. The validators of each copy and each
source's state (:mod:`filterproxy.lists.state`) live in ``<dest_dir>/update-state.json``.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from filterproxy.errors import ListError, ListFetchError
from filterproxy.files import fsync_dir, write_atomic
from filterproxy.lists.fetch import Download, Validators, fetch
from filterproxy.lists.formats import BadLine, parse_source
from filterproxy.lists.progress import TerminalProgress
from filterproxy.lists.settings import SourceSettings
from filterproxy.lists.state import STATE_FILE as STATE_FILE
from filterproxy.lists.state import load_state, log_attempt, mark, remote

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 1 << 30
Outcome = Literal["updated", "unchanged", "failed"]


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """What happened to one source."""

    source_id: str
    outcome: Outcome
    path: Path
    detail: str
    entries: int = 0
    bad_lines: int = 0
    size: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"

    def __str__(self) -> str:
        return f"{self.source_id}: {self.outcome}: {self.detail}"


@dataclass(frozen=True, slots=True)
class UpdateOptions:
    """Limits a download must respect to replace the copy we hold."""

    timeout: float = 30.0
    max_bad_share: float = 0.05
    max_bytes: int = DEFAULT_MAX_BYTES
    #: Refuse a new copy with fewer entries than this share of the last good one (upstream build
    #: breakages publish near-empty lists); ``force`` accepts it anyway.
    min_keep_share: float = 0.5
    force: bool = False
    mirror: str | None = None  # lists.mirror: fetch <mirror>/<source id>/<file name> instead of the url
    progress: Callable[[str], TerminalProgress] | None = None  # a progress line per source, on a terminal


def update_sources(
    sources: list[SourceSettings],
    dest_dir: Path,
    *,
    timeout: float = 30.0,
    max_bad_share: float = 0.05,
    max_bytes: int = DEFAULT_MAX_BYTES,
    force: bool = False,
    mirror: str | None = None,
    progress: Callable[[str], TerminalProgress] | None = None,
) -> list[UpdateResult]:
    """Update every enabled source that has a ``url``; one result per source, failures included.

    Each source's state (fetching, then ok or failed with the error) is saved as it changes, so
    ``lists stats`` and ``/metrics`` show a download in progress; every outcome is logged.
    """
    options = UpdateOptions(timeout, max_bad_share, max_bytes, force=force, mirror=mirror, progress=progress)
    state_path = dest_dir / STATE_FILE
    state = load_state(state_path)
    results = []
    for source in remote(sources):
        if not isinstance(state.get(source.id), dict):
            state[source.id] = {}
        mark(state[source.id], "fetching", time.time())
        _save_state(state_path, state)
        try:
            result = update_source(source, state, options)
        except ListError as exc:
            kept = "kept the previous copy" if source.path.exists() else "no previous copy"
            log.warning("list update failed: %s (%s)", exc, kept)
            result = UpdateResult(source.id, "failed", source.path, f"{exc}; {kept}")
        mark(state[source.id], "ok" if result.ok else "failed", time.time(), result.detail)
        _save_state(state_path, state)
        log_attempt(dest_dir, source.id, result.outcome, time.time(), result.detail)
        results.append(result)
    return results


def download_url(source: SourceSettings, mirror: str | None) -> str:
    """Where ``source`` is fetched from: its url, or ``<mirror>/<source id>/<file name of its url>``."""
    if not source.url:
        raise ListFetchError(f"{source.id}: no url to download from")
    if not mirror:
        return source.url
    name = urllib.parse.urlsplit(source.url).path.rsplit("/", 1)[-1] or source.path.name
    return f"{mirror.rstrip('/')}/{urllib.parse.quote(source.id)}/{urllib.parse.quote(name)}"


def update_source(source: SourceSettings, state: dict[str, Any], options: UpdateOptions) -> UpdateResult:
    """Fetch, verify and install one source; raise :class:`ListFetchError` (old copy untouched)."""
    url = download_url(source, options.mirror)
    held_copy = source.path.is_file()
    held = _validators(state.get(source.id), url) if held_copy and not options.force else None
    bar = options.progress(source.id) if options.progress is not None else None
    try:
        download = fetch(url, source.path, held, timeout=options.timeout, max_bytes=options.max_bytes, progress=bar)
    except OSError as exc:  # creating the directory or the temporary file
        raise ListFetchError(f"{source.id}: cannot write near {source.path}: {exc.strerror or exc}") from exc
    finally:
        if bar is not None:
            bar.close()
    if download is None:
        return UpdateResult(source.id, "unchanged", source.path, "not modified since the last download")
    try:
        entries, bad = _verify(source, url, download, options.max_bad_share)
        if held_copy and not options.force:
            _check_shrink(url, state.get(source.id), entries, options.min_keep_share)
        _install(download.path, source.path)
    except OSError as exc:
        download.path.unlink(missing_ok=True)
        raise ListFetchError(f"{source.id}: cannot install {source.path}: {exc.strerror or exc}") from exc
    except BaseException:
        download.path.unlink(missing_ok=True)
        raise
    record = state.get(source.id)
    state[source.id] = {**(record if isinstance(record, dict) else {}), **_record(url, source, download, entries)}
    detail = f"{entries} entries, {bad} malformed lines, {download.size} bytes -> {source.path}"
    return UpdateResult(source.id, "updated", source.path, detail, entries, bad, download.size)


def _check_shrink(url: str, held: Any, entries: int, min_keep_share: float) -> None:
    before = held.get("entries") if isinstance(held, dict) and held.get("url") == url else None
    if isinstance(before, int) and entries < before * min_keep_share:
        raise ListFetchError(
            f"{url}: the list shrank from {before} to {entries} entries (an upstream breakage?); "
            "run the update with --force to accept it"
        )


def _verify(source: SourceSettings, url: str, download: Download, max_bad_share: float) -> tuple[int, int]:
    if source.sha256 and source.sha256.lower() != download.sha256:
        raise ListFetchError(f"{url}: SHA-256 {download.sha256} does not match the expected {source.sha256}")
    if download.size == 0:
        raise ListFetchError(f"{url}: empty response")
    entries = bad = 0
    first: BadLine | None = None
    try:
        for item in parse_source(source.model_copy(update={"path": download.path})):
            if not isinstance(item, BadLine):
                entries += 1
            elif not item.unsupported:
                bad += 1
                first = first or item
    except ListError as exc:
        raise ListFetchError(f"{url}: downloaded file is unusable: {exc}") from exc
    return entries, _check_counts(source, url, entries, bad, first, max_bad_share)


def _check_counts(source: SourceSettings, url: str, entries: int, bad: int, first: BadLine | None,
                  limit: float) -> int:
    share = source.bad_share_limit(limit)
    if bad and bad / (entries + bad) > share:
        sample = f" (first: line {first.line}: {first.reason})" if first else ""
        raise ListFetchError(f"{url}: {bad} of {entries + bad} lines malformed, more than {share:.1%}{sample}")
    if entries == 0:
        raise ListFetchError(f"{url}: downloaded list has no entries")
    return bad


def _install(tmp: Path, dest: Path) -> None:
    os.replace(tmp, dest)
    fsync_dir(dest.parent)


def _validators(entry: Any, url: str) -> Validators | None:
    if not isinstance(entry, dict) or entry.get("url") != url:
        return None  # never send validators of another URL's copy
    etag, modified = entry.get("etag"), entry.get("last_modified")
    return Validators(etag if isinstance(etag, str) else None, modified if isinstance(modified, str) else None)


def _record(url: str, source: SourceSettings, download: Download, entries: int) -> dict[str, Any]:
    return {
        "url": url,
        "path": str(source.path),
        "etag": download.validators.etag,
        "last_modified": download.validators.last_modified,
        "sha256": download.sha256,
        "size": download.size,
        "entries": entries,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _save_state(path: Path, state: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(state, indent=2, sort_keys=True))
