"""Load generators: wrk for absolute-form HTTP requests, an asyncio client for CONNECT.

Every run is bounded: wrk by -d, the CONNECT client by its own deadline.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    count: int  # requests (or connections) completed in the window
    seconds: float
    errors: int = 0
    status: str = ""  # e.g. "403" / "302" / "200" seen on a sample

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def wrk_script(path: Path, targets: list[tuple[str, str]]) -> Path:
    """A wrk Lua script cycling absolute-form requests: (url, Host header)."""
    rows = ",\n".join(f'{{"{url}", "{host}"}}' for url, host in targets)
    path.write_text(
        f"local t = {{\n{rows}\n}}\nlocal i = 0\n"
        "request = function()\n  i = i + 1\n  local r = t[(i % #t) + 1]\n"
        '  return wrk.format("GET", r[1], {["Host"] = r[2], ["Accept"] = "text/html"})\nend\n'
    )
    return path


def wrk(port: int, script: Path, seconds: float, connections: int = 16) -> Result:
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, int(seconds))}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    found = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if not found:
        return Result(0, seconds, 1, out[-200:])
    elapsed = float(found.group(2)) / (1000 if found.group(3) == "ms" else 1)
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(int(found.group(1)), elapsed, errors, f"non-2xx/3xx={non2xx.group(1) if non2xx else 0}")


async def _connect_once(port: int, target: str, tls: ssl.SSLContext | None, sni: str) -> bool:
    """One CONNECT; True when the tunnel was refused (blocked) or a TLS session came up (passthrough)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        established = b" 200 " in head.split(b"\r\n", 1)[0]
        if tls is None:
            return not established
        if not established:
            return False
        await writer.start_tls(tls, server_hostname=sni)
        writer.transport.abort()  # no TLS shutdown dance: e2guardian would keep the tunnel (and a worker) busy
        return True
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ssl.SSLError):
        return tls is None  # a proxy that just closes a refused CONNECT has refused it too
    finally:
        writer.close()


async def _connect_load(
    ports: list[int], targets: list[str], tls: ssl.SSLContext | None, seconds: float, concurrency: int
) -> Result:
    deadline = time.monotonic() + seconds
    done = [0, 0]

    async def worker(n: int) -> None:
        i = n
        while time.monotonic() < deadline:
            i += concurrency
            try:
                ok = await asyncio.wait_for(
                    _connect_once(ports[i % len(ports)], targets[i % len(targets)], tls, "allowed.bench.test"), 5
                )
            except TimeoutError:
                ok = False
            done[0 if ok else 1] += 1

    started = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return Result(done[0], time.monotonic() - started, done[1])


def connect_load(
    ports: list[int], targets: list[str], *, passthrough: bool, seconds: float, concurrency: int = 16
) -> Result:
    tls = None
    if passthrough:
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE  # the bench origin's self-signed certificate
    return asyncio.run(_connect_load(ports, targets, tls, seconds, concurrency))
