"""A second `serve` while the ports are taken: one line naming the address and its holder, exit 1."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from filterproxy.config.loader import load_config
from filterproxy.inuse import explain_in_use, process_name
from tests.support import free_port, free_udp_tcp_port

REPO = Path(__file__).resolve().parents[1]
HOLDER = """
import socket, sys, time
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", int(sys.argv[2])))
if kind == socket.SOCK_STREAM:
    s.listen()
print("ready", flush=True)
time.sleep(60)
"""


@pytest.fixture
def hold() -> Iterator[object]:
    held: list[subprocess.Popen[str]] = []

    def start(protocol: str, port: int) -> int:
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, protocol, str(port)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        held.append(proc)
        return proc.pid

    yield start
    for proc in held:
        proc.kill()
        proc.wait()


def write_config(tmp: Path, dns: int, metrics: int) -> Path:
    config = tmp / "filterproxy.yaml"
    config.write_text(f"""
data_dir: data
lists: {{sources: []}}
dns: {{listen: "127.0.0.1:{dns}", upstreams: ["127.0.0.1:9"]}}
proxy: {{enabled: false}}
metrics: {{listen: "127.0.0.1:{metrics}"}}
""")
    return config


def test_names_the_address_the_setting_and_the_holder(tmp_path: Path, hold: object) -> None:
    dns, metrics = free_udp_tcp_port(), free_port()
    config = load_config(write_config(tmp_path, dns, metrics), env={})
    assert explain_in_use(config) is None
    pid = hold("udp", dns)  # type: ignore[operator]
    line = explain_in_use(config)
    assert line == (f"127.0.0.1:{dns}/udp (dns.listen) is already in use (by pid {pid} {process_name(pid)}); "
                    "is filterproxy already running?")
    assert process_name(pid).startswith("python")  # `python -c ...`: the interpreter names it


def test_second_serve_prints_one_line_and_fails(tmp_path: Path, hold: object) -> None:
    dns, metrics = free_udp_tcp_port(), free_port()
    config = write_config(tmp_path, dns, metrics)
    pid = hold("tcp", metrics)  # type: ignore[operator]
    out = subprocess.run([sys.executable, "-m", "filterproxy.cli", "--config", str(config), "serve"],
                         capture_output=True, text=True, timeout=60, cwd=REPO, env={**os.environ})
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if "Traceback" in line or line.startswith("filterproxy:")]
    assert errors == [f"filterproxy: error: 127.0.0.1:{metrics}/tcp (metrics.listen) is already in use "
                      f"(by pid {pid} {process_name(pid)}); is filterproxy already running?"]
