"""Reloading lists in a running service: SIGHUP, `filterproxy lists reload`, or a changed file.

A reload of category lists builds the new compiled index in a child process
(``python -m filterproxy.lists.build``), then maps it and swaps one reference: readers never
lock, the parse never holds the GIL of the resolver, and the service holds at most the old
and the new index. Local allow/deny lists are small and re-read in process. Any failure keeps
the old classifier and is reported with its reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from filterproxy.classify.classifier import Classifier, LocalLists
from filterproxy.classify.engine import Engine
from filterproxy.classify.policy import Policy
from filterproxy.config.model import Config
from filterproxy.errors import FilterproxyError, IndexFileError, ListError
from filterproxy.lists.build import fingerprint
from filterproxy.lists.loader import index_dir, last_good_dir, local_files, prune_index_files, resolve_sources
from filterproxy.lists.local import load_local
from filterproxy.lists.overrides import override_path
from filterproxy.lists.settings import SourceSettings
from filterproxy.lists.state import due, read_states, remote, state_dir
from filterproxy.lists.store import read_index

log = logging.getLogger(__name__)
RELOAD_FILE = "reload.request"  # `filterproxy lists reload` touches this file in the data dir
RETRY_SECONDS = 600.0  # a failed download is tried again after this (the old copy serves meanwhile)


def request_reload(data_dir: Path) -> Path:
    """Ask the running service to reload (as `filterproxy lists reload`): it watches this file."""
    request = data_dir / RELOAD_FILE
    request.parent.mkdir(parents=True, exist_ok=True)
    request.write_text(datetime.now(UTC).isoformat() + "\n")
    return request


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool
    rebuilt: bool  # whether the category index changed (else only local lists)
    message: str
    seconds: float


Observer = Callable[[ReloadResult, Engine], None]


class ListManager:
    """Keeps an :class:`Engine` current with the files it was built from."""

    def __init__(self, config: Config, engine: Engine, observers: list[Observer] | None = None) -> None:
        self._config = config
        self._engine = engine
        self._observers = observers or []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._updater: asyncio.Task[None] | None = None
        self._updating = False  # downloads in progress: the watch leaves the files to update()'s reload
        self._stamp = self._inputs_stamp()

    @property
    def engine(self) -> Engine:
        return self._engine

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        except (NotImplementedError, RuntimeError):  # not the main thread
            log.debug("SIGHUP reload not available in this thread")
        if self._config.lists.watch:
            self._task = asyncio.create_task(self._watch(), name="lists-watch")
        if self.downloads_wanted():
            self._updater = asyncio.create_task(self._update_periodically(), name="lists-update")

    def downloads_wanted(self) -> bool:
        """Whether this service downloads lists itself: not offline, an interval, a remote source."""
        lists = self._config.lists
        if lists.offline or lists.update_interval_hours <= 0:
            return False
        try:
            return bool(remote(resolve_sources(self._config)))
        except FilterproxyError:
            return False  # a broken sources file: the reload reports it

    async def stop(self) -> None:
        for task in (self._task, self._updater):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._task = self._updater = None

    async def update(self, sources: list[SourceSettings] | None = None) -> ReloadResult:
        """Download ``sources`` (default: every remote one) in a worker thread, then reload."""
        from filterproxy.lists.update import update_sources

        config = self._config
        if config.lists.offline:
            raise ListError("lists.offline is set: nothing is downloaded")
        self._updating = True
        try:
            results = await asyncio.to_thread(
                update_sources, resolve_sources(config) if sources is None else sources,
                state_dir(config.data_dir), max_bad_share=config.lists.max_bad_share, mirror=config.lists.mirror,
            )
        finally:
            self._updating = False
        counts = {o: [r.source_id for r in results if r.outcome == o] for o in ("updated", "unchanged", "failed")}
        log.info("list update: %d updated, %d unchanged, %d failed%s", len(counts["updated"]),
                 len(counts["unchanged"]), len(counts["failed"]),
                 f" ({', '.join(counts['failed'][:5])}{', ...' if len(counts['failed']) > 5 else ''})"
                 if counts["failed"] else "")
        return await self.reload()

    async def _update_periodically(self) -> None:
        """Fetch what is due, at once on the first start (never fetched), then on the interval.

        A failed source is retried after :data:`RETRY_SECONDS` (or the interval, if shorter); its
        last good copy, or the starter list of its category, serves meanwhile.
        """
        interval = self._config.lists.update_interval_hours * 3600
        pause = min(RETRY_SECONDS, interval)
        while True:
            try:
                sources = resolve_sources(self._config)
                wanted, wait = due(sources, read_states(state_dir(self._config.data_dir), sources),
                                   interval=interval, retry=RETRY_SECONDS)
                if wanted:
                    await self.update(wanted)
                    wait = max(pause, due(sources, read_states(state_dir(self._config.data_dir), sources),
                                          interval=interval, retry=RETRY_SECONDS)[1])
            except Exception:  # the updater must outlive any one bad run
                log.exception("list update run failed; retrying in %.0fs", pause)
                wait = pause
            await asyncio.sleep(wait)

    async def reload(self) -> ReloadResult:
        """Rebuild what changed and swap it in; on failure keep the current classifier."""
        async with self._lock:
            started = time.monotonic()
            try:
                classifier, rebuilt = await self._next_classifier()
            except FilterproxyError as exc:
                result = ReloadResult(False, False, str(exc), time.monotonic() - started)
                log.error("list reload failed, keeping the previous lists: %s", exc)
            else:
                self._engine.swap(classifier)
                result = ReloadResult(True, rebuilt, "reloaded", time.monotonic() - started)
                log.info("lists reloaded in %.2fs (index rebuilt: %s)", result.seconds, rebuilt)
            self._stamp = await asyncio.to_thread(self._inputs_stamp)
            for observer in self._observers:
                observer(result, self._engine)
            return result

    async def _next_classifier(self) -> tuple[Classifier, bool]:
        # File work (YAML, fingerprints that hash list files, mapping the index) runs in a thread: on
        # the loop it held DNS answers for tens of milliseconds at 1M names.
        config = self._config
        local, sources, wanted = await asyncio.to_thread(self._inputs)
        current = self._engine.current.index
        if current.fingerprint == wanted:
            live = self._engine.current
            return Classifier(live.policy, current, local, live.judge, suffixes=live.suffixes), False
        path = index_dir(config) / f"{wanted}.fpi"
        if not path.exists():
            await _build_in_child(sources, config.lists.max_bad_share, path, last_good_dir(config))
        try:
            index = await asyncio.to_thread(read_index, path)
        except IndexFileError as exc:  # another format version or damaged: build it again
            log.warning("rebuilding: %s", exc)
            await _build_in_child(sources, config.lists.max_bad_share, path, last_good_dir(config))
            index = await asyncio.to_thread(read_index, path)
        await asyncio.to_thread(prune_index_files, path.parent, keep=path)
        live = self._engine.current
        return Classifier(Policy(config.policy), index, local, live.judge, suffixes=live.suffixes), True

    def _inputs(self) -> tuple[LocalLists, list[SourceSettings], str]:
        config = self._config
        sources = resolve_sources(config)
        return load_local(local_files(config)), sources, fingerprint(sources, config.lists.max_bad_share)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._config.lists.watch_interval)
            if self._updating:
                continue  # one rebuild when every download is in, not one per file landing
            try:
                stamp = await asyncio.to_thread(self._inputs_stamp)
            except OSError as exc:
                log.warning("cannot check list files: %s", exc)
                continue
            if stamp != self._stamp:
                await self.reload()

    def _inputs_stamp(self) -> tuple[object, ...]:
        """What a reload depends on: the sources file, the category sources' fingerprint (every
        list file behind them, as a build sees them), the local lists and the reload request."""
        paths = [*local_files(self._config).all_files(), self._config.data_dir / RELOAD_FILE,
                 override_path(self._config.data_dir)]
        if self._config.lists.sources_file is not None:
            paths.append(self._config.lists.sources_file)
        out: list[object] = []
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                out.append((str(path), -1, -1))
                continue
            out.append((str(path), stat.st_size, stat.st_mtime_ns))
        try:
            out.append(fingerprint(resolve_sources(self._config), self._config.lists.max_bad_share))
        except FilterproxyError as exc:  # a broken sources file: its own stat above changes when it is fixed
            out.append(str(exc))
        return tuple(out)


async def _build_in_child(sources: list[SourceSettings], max_bad_share: float, out: Path, good: Path) -> None:
    spec = {"sources": [s.model_dump(mode="json") for s in sources], "max_bad_share": max_bad_share,
            "good": str(good)}  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    spec_path = Path(handle.name)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "filterproxy.lists.build", str(spec_path), str(out),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        _, err = await process.communicate()
    finally:
        spec_path.unlink(missing_ok=True)
    if process.returncode != 0:
        raise ListError(err.decode(errors="replace").strip() or f"index build exited {process.returncode}")
