"""`mitmdump -s filterproxy/http/addon_script.py`: the same filter, loaded by mitmproxy itself."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http.conftest import curl
from tests.http.origin import Origin
from tests.support import free_port

SCRIPT = Path(__file__).resolve().parents[2] / "filterproxy" / "http" / "addon_script.py"


@pytest.fixture
def mitmdump(tmp_path: Path) -> Iterator[int]:
    (tmp_path / "var" / "local" / "deny").mkdir(parents=True)
    (tmp_path / "var" / "local" / "deny" / "gambling.txt").write_text("bet.example\n")
    config = tmp_path / "filterproxy.yaml"
    # the local origin is on loopback: the proxy reaches it only because this allows it explicitly
    config.write_text(
        "block: {school_name: Script School}\nlists: {sources: []}\nproxy: {allow_internal: [127.0.0.0/8]}\n"
    )
    port = free_port()
    mitmdump = Path(sys.executable).parent / "mitmdump"
    proc = subprocess.Popen(
        [
            str(mitmdump),
            "-q",
            "--listen-host",
            "127.0.0.1",
            "-p",
            str(port),
            "-s",
            str(SCRIPT),
            "--set",
            f"filterproxy_config={config}",
            "--set",
            f"confdir={tmp_path / 'var' / 'ca'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_script_blocks_and_allows(mitmdump: int, origin: Origin) -> None:
    proxy = f"http://127.0.0.1:{mitmdump}"
    blocked = curl("-i", "-x", proxy, "-H", "Accept: text/html", "http://www.bet.example/")
    assert blocked.stdout.startswith("HTTP/1.1 403") and "Script School" in blocked.stdout
    assert "Gambling" in blocked.stdout
    allowed = curl("-x", proxy, f"http://127.0.0.1:{origin.http_port}/via-script")
    assert '"path": "/via-script"' in allowed.stdout
    refused = curl("-x", proxy, "https://bet.example/")
    assert refused.returncode == 56
