"""Building the category index from list sources, and caching it in compiled form.

A build parses every enabled source, counts its malformed lines and rejects the whole build
(:class:`ListFormatError`) when one source has more bad lines than its tolerated share: the
caller keeps serving the previous index. A build is keyed by a *fingerprint* of its inputs
(source definitions plus file sizes and modification times), so a restart with unchanged lists
maps the compiled file instead of parsing text.

Run as ``python -m filterproxy.lists.build SPEC.json OUT`` it builds in a child process: the
service uses that on reload so the parse never competes with DNS answers for the GIL and the
service itself never holds more than the old and the new index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from filterproxy.classify.builder import IndexBuilder
from filterproxy.classify.index import Index, SourceInfo
from filterproxy.errors import ListError, ListFormatError
from filterproxy.lists import lastgood
from filterproxy.lists.formats import BadLine, Entry, parse_source
from filterproxy.lists.settings import SourceSettings
from filterproxy.lists.store import FORMAT_VERSION, write_index

log = logging.getLogger(__name__)
MAX_ERROR_SAMPLES = 5


@dataclass(frozen=True, slots=True)
class SourceResult:
    """How one source parsed."""

    info: SourceInfo
    rejected: bool


def fingerprint(sources: Sequence[SourceSettings], max_bad_share: float) -> str:
    """A digest of everything a build depends on: definitions, file sizes and modification times."""
    digest = hashlib.sha256(f"{FORMAT_VERSION}|{max_bad_share}".encode())  # the file format is part of the key
    for source in sources:
        digest.update(source.model_dump_json().encode())
        for path in _files_of(source.path):
            try:
                stat = path.stat()
            except OSError:
                digest.update(f"{path}|missing".encode())
                continue
            digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:32]


def build_index(sources: Sequence[SourceSettings], max_bad_share: float, good: Path | None = None) -> Index:
    """Parse every enabled source into one index, or raise :class:`ListError` saying which and why.

    With ``good`` (the last-good-copy directory), a rejected source falls back to its last good
    copy (see :mod:`filterproxy.lists.lastgood`) and only a source without one fails the build."""
    # taken before parsing: a file that changes during the build then no longer matches, and is rebuilt
    stamp = fingerprint(sources, max_bad_share)
    enabled = [s for s in sources if s.enabled]
    builder = IndexBuilder()
    infos = []
    missing = []
    for source in enabled:
        if source.url and not source.path.exists():
            # a remote list enabled but never downloaded: not an error; the starter lists serve until it is
            missing.append(source.id)
            infos.append(SourceInfo(source.id, source.category, str(source.path), licence=source.licence,
                                    attribution=source.attribution, errors=("not downloaded yet",)))
            continue
        result = _add_source(builder, source, max_bad_share)
        if result.rejected:
            result = _fall_back(builder, source, max_bad_share, result, good)
        elif good is not None:
            lastgood.keep(source, good)
        infos.append(result.info)
    if missing:
        log.info("%d remote source(s) not downloaded yet (%s): serving without them until the first "
                 "download (`filterproxy lists update`, or the service's own update)", len(missing),
                 ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else ""))
    return builder.build(infos, stamp)


def _fall_back(builder: IndexBuilder, source: SourceSettings, max_bad_share: float, rejected: SourceResult,
               good: Path | None) -> SourceResult:  # fmt: skip
    """The source's last good copy in place of a rejected file; raises when there is none (or it fails too)."""
    reason = _rejection(rejected.info, source.bad_share_limit(max_bad_share))
    copy = lastgood.last_good(source, good) if good is not None else None
    if copy is None:
        raise ListFormatError(reason)
    result = _add_source(builder, copy, max_bad_share)
    if result.rejected:
        raise ListFormatError(reason)
    log.warning("%s; serving its last good copy (%s entries)", reason, result.info.entries)
    info = replace(result.info, path=str(source.path), stale=f"{reason}; serving the last good copy",
                   errors=rejected.info.errors)  # fmt: skip
    return SourceResult(info, False)


def _add_source(builder: IndexBuilder, source: SourceSettings, max_bad_share: float) -> SourceResult:
    pair = builder.pair(source.category, source.id)
    mark = builder.mark()
    entries = bad = skipped = 0
    samples: list[str] = []
    try:
        for item in parse_source(source):
            if isinstance(item, BadLine):
                if item.unsupported:  # valid syntax we do not act on: counted, not held against the list
                    skipped += 1
                    continue
                bad += 1
                if len(samples) < MAX_ERROR_SAMPLES:
                    samples.append(str(item))
                continue
            entries += 1
            _add_entry(builder, item, pair)
    except OSError as exc:
        raise ListError(f"{source.id}: cannot read {source.path}: {exc.strerror or exc}") from exc
    total = entries + bad
    rejected = total > 0 and bad / total > source.bad_share_limit(max_bad_share)
    if rejected:
        builder.rollback(mark, pair)
    stat = _stat(source.path)
    info = SourceInfo(
        id=source.id,
        category=source.category,
        path=str(source.path),
        entries=entries,
        bad_lines=bad,
        skipped=skipped,
        mtime=stat[0],
        size=stat[1],
        licence=source.licence,
        attribution=source.attribution,
        errors=tuple(samples),
    )
    return SourceResult(info, rejected)


def _add_entry(builder: IndexBuilder, entry: Entry, pair: int) -> None:
    if entry.kind == "domain":
        builder.add_domain(entry.value, pair)
    elif entry.kind == "url":
        builder.add_url(entry.value, pair)
    elif entry.kind == "ip":
        builder.add_ip(entry.value, pair)
    else:
        builder.add_exception(entry.value, pair)


def _rejection(info: SourceInfo, limit: float) -> str:
    total = info.entries + info.bad_lines
    first = f"; first: {info.errors[0]}" if info.errors else ""
    return (
        f"source {info.id} rejected: {info.bad_lines} of {total} lines malformed "
        f"({info.bad_lines / total:.1%} > {limit:.1%} allowed){first}"
    )


def _files_of(path: Path) -> Iterable[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return (path,)


def _stat(path: Path) -> tuple[float, int]:
    files = list(_files_of(path))
    stats = [f.stat() for f in files if f.exists()]
    if not stats:
        return 0.0, 0
    return max(s.st_mtime for s in stats), sum(s.st_size for s in stats)


def build_to_file(sources: Sequence[SourceSettings], max_bad_share: float, out: Path,
                  good: Path | None = None) -> Index:  # fmt: skip
    """Build and write the compiled form to ``out`` atomically."""
    index = build_index(sources, max_bad_share, good)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_index(index, out)
    return index


def _main(argv: Sequence[str]) -> int:
    """Child-process entry: ``SPEC.json OUT``; exit 0 on success, 3 with the reason on stderr."""
    spec = json.loads(Path(argv[0]).read_text())
    sources = [SourceSettings.model_validate(s) for s in spec["sources"]]
    try:
        good = Path(spec["good"]) if spec.get("good") else None
        build_to_file(sources, float(spec["max_bad_share"]), Path(argv[1]), good)
    except ListError as exc:
        print(str(exc), file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    os.nice(5)  # a reload must not starve the resolver of CPU
    sys.exit(_main(sys.argv[1:]))
