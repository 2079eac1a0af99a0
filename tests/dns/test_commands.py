"""`filterproxy dns` as a user runs it, and dropping privileges after binding."""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from filterproxy.config.model import Config
from filterproxy.dns.commands import with_overrides
from filterproxy.errors import DnsError
from tests.dns.conftest import Loop
from tests.dns.stub import Stub
from tests.dns.test_server import addresses
from tests.support import free_udp_tcp_port

REPO = Path(__file__).resolve().parents[2]


def test_overrides_are_validated_like_the_file() -> None:
    args = argparse.Namespace(
        listen="127.0.0.1:5300", upstream="127.0.0.1:53, tls://127.0.0.1:853#dns.test", metrics="127.0.0.1:9999"
    )
    config = with_overrides(Config(), args)
    assert config.dns.listen == "127.0.0.1:5300"
    assert config.dns.upstreams == ["127.0.0.1:53", "tls://127.0.0.1:853#dns.test"]
    assert config.metrics.listen == "127.0.0.1:9999"
    with pytest.raises(ValueError, match="scheme"):
        with_overrides(Config(), argparse.Namespace(listen=None, upstream="quic://1.2.3.4:853", metrics=None))



@pytest.fixture
def stub() -> Iterator[Stub]:
    loop = Loop()
    running = Stub()
    loop.run(running.start())
    yield running
    loop.run(running.stop())
    loop.close()


def test_filterproxy_dns_command_serves(stub: Stub, tmp_path: Path) -> None:
    port = free_udp_tcp_port()
    cmd = [
        sys.executable,
        "-m",
        "filterproxy.cli",
        "--data-dir",
        str(tmp_path),
        "dns",
        "--listen",
        f"127.0.0.1:{port}",
        "--upstream",
        f"127.0.0.1:{stub.port}",
        "--metrics",
        "127.0.0.1:0",
    ]
    env = {**os.environ, "FILTERPROXY__LISTS__UPDATE_INTERVAL_HOURS": "0"}  # never download lists in a test
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        reply = None
        deadline = time.monotonic() + 60
        while reply is None and time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(dns.exception.Timeout):
                reply = dns.query.udp(dns.message.make_query("ok.example", "A"), "127.0.0.1", port=port, timeout=0.5)
        assert reply is not None, proc.stderr.read().decode() if proc.poll() is not None else "no answer"
        assert addresses(reply) == ["192.0.2.1"]
        canary = dns.query.tcp(dns.message.make_query("mask.icloud.com", "A"), "127.0.0.1", port=port, timeout=3)
        assert canary.rcode() == dns.rcode.NXDOMAIN
    finally:
        proc.terminate()
        proc.wait(15)
    assert proc.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs root")
def test_privileges_are_dropped_after_binding() -> None:
    script = (
        "import socket, os\n"
        "from filterproxy.dns.privileges import drop_privileges\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0))\n"
        "assert drop_privileges('nobody')\n"
        "print(os.getuid(), os.geteuid())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=30)
    import pwd

    nobody = pwd.getpwnam("nobody").pw_uid
    assert out.stdout.split() == [str(nobody), str(nobody)], out.stderr


def test_unknown_user_is_a_clear_error() -> None:
    from filterproxy.dns.privileges import drop_privileges

    if os.geteuid() != 0:
        assert drop_privileges("no-such-user-here") is False
        return
    with pytest.raises(DnsError, match="no user"):
        drop_privileges("no-such-user-here")
