"""A real `filterproxy serve` for the console's end-to-end tests: resolver, proxy and console in one process,
an authoritative stub as the only upstream, people added with the real CLI."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dns.message
import dns.query

from tests.console.conftest import PASSWORDS, ROLES, write_lists
from tests.dns.stub import Stub
from tests.support import free_port, free_udp_tcp_port, wait_listening

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Serving:
    config: Path
    ports: dict[str, int]
    proc: subprocess.Popen[str]

    @property
    def console(self) -> str:
        return f"http://127.0.0.1:{self.ports['console']}"

    def cli(self, *args: str, stdin: str | None = None) -> str:
        return cli(self.config, *args, stdin=stdin)

    def resolve(self, name: str) -> list[str]:
        answer = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=self.ports["dns"], timeout=3)
        return [r.to_text() for rr in answer.answer for r in rr]

    def incidents(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = json.loads(self.cli("incidents", "list", "--json"))
        return found

    def wait_incident(self, host: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for incident in self.incidents():
                if incident["host"] == host:
                    return incident
            time.sleep(0.3)
        raise AssertionError(f"no incident for {host}")


def cli(config: Path, *args: str, stdin: str | None = None) -> str:
    out = subprocess.run([sys.executable, "-m", "filterproxy.cli", "--config", str(config), *args], input=stdin,
                         capture_output=True, text=True, timeout=60, cwd=REPO, check=True)
    return out.stdout


@contextlib.contextmanager
def stub_upstream() -> Iterator[int]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    stub = Stub()
    for _ in range(20):  # UDP and TCP share one port: retry if TCP's is taken
        try:
            asyncio.run_coroutine_threadsafe(stub.start(), loop).result(10)
            break
        except OSError:
            asyncio.run_coroutine_threadsafe(stub.stop(), loop).result(10)
            stub = Stub()
    try:
        yield stub.port
    finally:
        asyncio.run_coroutine_threadsafe(stub.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def write_config(tmp: Path, upstream: int, console_extra: str = "") -> tuple[Path, dict[str, int]]:
    ports = {"dns": free_udp_tcp_port(), "proxy": free_port(), "metrics": free_port(), "pac": free_port(),
             "console": free_port()}
    config = tmp / "filterproxy.yaml"
    (tmp / "data").mkdir(exist_ok=True)  # the inventory names the person at the test's own address
    (tmp / "data" / "inventory.csv").write_text("ip,device,user\n127.0.0.1,lab-pc-07,p.smith\n")
    config.write_text(f"""data_dir: data
{write_lists(tmp)}dns:
  listen: 127.0.0.1:{ports['dns']}
  upstreams: ["127.0.0.1:{upstream}"]
proxy:
  listen: 127.0.0.1:{ports['proxy']}
  pac_listen: 127.0.0.1:{ports['pac']}
metrics:
  listen: 127.0.0.1:{ports['metrics']}
incidents:
  dedup_window: 0
  flush_interval: 0.2
  devices:
    inventory_csv: inventory.csv
block:
  school_name: Hillside Academy
  request_url: http://127.0.0.1:{ports['console']}/request
console:
  listen: 127.0.0.1:{ports['console']}
{console_extra}""")
    return config, ports



@contextlib.contextmanager
def serving(tmp: Path, console_extra: str = "") -> Iterator[Serving]:
    with stub_upstream() as upstream:
        config, ports = write_config(tmp, upstream, console_extra)
        for name, role in ROLES.items():
            cli(config, "users", "add", name, "--role", role.value, "--password-stdin", stdin=PASSWORDS[name] + "\n")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen([sys.executable, "-m", "filterproxy.cli", "--config", str(config), "serve"],
                                cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            for port in (ports["dns"], ports["proxy"], ports["console"]):
                if proc.poll() is not None:
                    raise AssertionError(f"serve exited: {proc.communicate()[0][-3000:]}")
                wait_listening(port, 60.0)
            yield Serving(config, ports, proc)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                output, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            assert proc.returncode == 0, output[-3000:]
