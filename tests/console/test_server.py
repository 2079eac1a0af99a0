"""The console as a component of `filterproxy serve`: child process or thread, a port it cannot get, a
service that dies without stopping it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from filterproxy.console.server import ConsoleServer
from tests.console.conftest import make_config
from tests.support import Loop

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("process", [True, False])
def test_a_taken_port_leaves_the_console_off_without_failing(tmp_path: Path, loop: Loop, process: bool,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = make_config(tmp_path, f"  process: {str(process).lower()}\n")
        config = config.model_copy(update={"console": config.console.model_copy(
            update={"listen": f"127.0.0.1:{port}"})})
        server = ConsoleServer(config)
        loop.run(server.start(), timeout=90)
        assert not server.serving
        loop.run(server.stop())
    assert "console not started" in caplog.text


def test_child_process_serves_and_stops(tmp_path: Path, loop: Loop) -> None:
    config = make_config(tmp_path, "  process: true\n")
    server = ConsoleServer(config)
    loop.run(server.start(), timeout=90)
    try:
        assert server.serving and server.port != 0
        answer = httpx.get(f"{server.url}/api/me", timeout=10)
        assert answer.status_code == 401
    finally:
        loop.run(server.stop())
    assert not server.serving


SCRIPT = """
import asyncio, sys
from pathlib import Path
from filterproxy.config.loader import load_config
from filterproxy.console.server import ConsoleServer

async def main():
    server = ConsoleServer(load_config(Path(sys.argv[1])))
    await server.start()
    print(server.port, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def test_console_process_stops_when_the_service_is_killed(tmp_path: Path) -> None:
    make_config(tmp_path, "  process: true\n")
    service = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path / "filterproxy.yaml")], cwd=REPO,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert service.stdout is not None
        port = int(service.stdout.readline())
        assert httpx.get(f"http://127.0.0.1:{port}/login", timeout=10).status_code == 200
    finally:
        os.kill(service.pid, signal.SIGKILL)
        service.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.2)
    raise AssertionError("the console outlived the killed service")
