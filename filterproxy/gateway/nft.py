"""Running the ``nft`` program: the one place foreign errors become :class:`GatewayError`."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from typing import Any

from filterproxy.errors import GatewayError

TIMEOUT = 20.0  # seconds; nft answers in milliseconds unless the kernel is wedged
LIST_TABLES = ["-j", "list", "tables", "inet"]


def table_handles(listing: str) -> dict[str, int]:
    """``{name: kernel handle}`` of the tables in the output of ``nft -j list tables inet``."""
    items = json.loads(listing or '{"nftables": []}').get("nftables", [])
    return {item["table"]["name"]: int(item["table"]["handle"]) for item in items if "table" in item}


class Nft:
    """The nft program, run in the network namespace of the calling process."""

    def __init__(self, program: str = "nft") -> None:
        self.program = program

    def _argv(self, args: list[str]) -> list[str]:
        path = shutil.which(self.program)
        if path is None:
            raise GatewayError(f"{self.program!r} not found: install nftables (apt-get install nftables)")
        return [path, *args]

    def run(self, args: list[str], text: str | None = None) -> str:
        """Run ``nft ARGS`` (feeding TEXT on stdin); return stdout or raise with nft's own message."""
        argv = self._argv(args)
        try:
            done = subprocess.run(
                argv, input=text, capture_output=True, text=True, timeout=TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GatewayError(f"running {' '.join(argv)} failed: {exc}") from exc
        if done.returncode != 0:
            raise GatewayError(f"nft {' '.join(args)} failed: {done.stderr.strip() or done.returncode}")
        return done.stdout

    def load(self, ruleset: str) -> None:
        """Load a ruleset as one atomic transaction."""
        self.run(["-f", "-"], ruleset)

    def table_json(self, table: str) -> list[dict[str, Any]] | None:
        """``nft -j list table inet TABLE`` decoded, or None when the table does not exist."""
        if table not in table_handles(self.run(LIST_TABLES)):
            return None
        listing = json.loads(self.run(["-j", "list", "table", "inet", table]))
        items: list[dict[str, Any]] = listing.get("nftables", [])
        return items

    async def load_async(self, commands: str) -> None:
        """Run a batch of commands without blocking the event loop (used by the steering set)."""
        await self.run_async(["-f", "-"], commands)

    async def table_handle(self, table: str) -> int | None:
        """The kernel's handle of ``inet TABLE`` (it changes whenever `gateway up` reloads it), or None."""
        return table_handles(await self.run_async(LIST_TABLES)).get(table)

    async def run_async(self, args: list[str], text: str = "") -> str:
        argv = self._argv(args)
        try:
            # stdin only when there is something to feed: uvloop raises on a write to a pipe the
            # command closed without reading (asyncio's own loop ignores it)
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if text else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise GatewayError(f"running {argv[0]} failed: {exc}") from exc
        try:
            out, err = await asyncio.wait_for(proc.communicate(text.encode() if text else None), TIMEOUT)
        except TimeoutError as exc:
            proc.kill()
            await proc.wait()
            raise GatewayError(f"nft {' '.join(args)} did not finish in {TIMEOUT:.0f} s") from exc
        if proc.returncode != 0:
            message = err.decode(errors="replace").strip() or proc.returncode
            raise GatewayError(f"nft {' '.join(args)} failed: {message}")
        return out.decode()
