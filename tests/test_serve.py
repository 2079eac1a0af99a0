"""`filterproxy serve` end to end: a real process, real DNS and HTTP clients, real SQLite.

Blocks through the DNS and proxy paths become incidents with the block page's reference, the
metrics endpoint counts them without ever naming a client or a domain, and SIGTERM loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import httpx
import pytest

from tests.dns.stub import Stub
from tests.support import free_port, wait_listening

REPO = Path(__file__).resolve().parents[1]



@pytest.fixture
def upstream() -> Iterator[int]:
    loop = asyncio.new_event_loop()
    stub = Stub()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    for _ in range(20):  # UDP and TCP must share one ephemeral port: retry if TCP's is taken
        try:
            asyncio.run_coroutine_threadsafe(stub.start(), loop).result(10)
            break
        except OSError:
            asyncio.run_coroutine_threadsafe(stub.stop(), loop).result(10)
            stub = Stub()
    yield stub.port
    asyncio.run_coroutine_threadsafe(stub.stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def write_config(tmp: Path, upstream: int) -> tuple[Path, dict[str, int]]:
    ports = {"dns": free_port(), "proxy": free_port(), "metrics": free_port(), "pac": free_port()}
    (tmp / "gambling.txt").write_text("bet.example\n")
    (tmp / "adult.txt").write_text("adult.example\n")
    config = tmp / "filterproxy.yaml"
    config.write_text(
        f"""
data_dir: data
lists:
  sources:
    - {{id: t/gambling, category: gambling, path: gambling.txt}}
    - {{id: t/adult, category: adult, path: adult.txt}}
dns:
  listen: 127.0.0.1:{ports['dns']}
  upstreams: ["127.0.0.1:{upstream}"]
proxy:
  listen: 127.0.0.1:{ports['proxy']}
  pac_listen: 127.0.0.1:{ports['pac']}
metrics:
  listen: 127.0.0.1:{ports['metrics']}
incidents:
  dedup_window: 0
"""
    )
    return config, ports



def cli(config: Path, *args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "filterproxy.cli", "--config", str(config), *args],
                         capture_output=True, text=True, timeout=60, cwd=REPO, check=True)
    return out.stdout


def exercise_serve(argv: list[str], cwd: Path, ports: dict[str, int], env: dict[str, str] | None = None) -> str:
    """Start ``argv`` (a ``serve`` command), check a DNS block and allow, the proxy's block page and
    ``/metrics``, then SIGTERM it and require a clean exit. Returns the block page's reference."""
    env = {**(env or os.environ), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for port in (ports["dns"], ports["proxy"], ports["metrics"]):
            if proc.poll() is not None:
                raise AssertionError(f"serve exited with {proc.returncode}:\n{proc.communicate()[0][-4000:]}")
            wait_listening(port)
        # DNS: a blocked name gets the block page address, an allowed one the upstream's answer
        blocked = dns.query.udp(dns.message.make_query("www.bet.example", "A"), "127.0.0.1",
                                port=ports["dns"], timeout=3)
        assert [r.to_text() for rr in blocked.answer for r in rr] == ["127.0.0.1"]
        allowed = dns.query.udp(dns.message.make_query("ok.example", "A"), "127.0.0.1", port=ports["dns"], timeout=3)
        assert [r.to_text() for rr in allowed.answer for r in rr] == ["192.0.2.1"]
        # HTTP through the proxy: the block page names the category and carries a reference
        with httpx.Client(proxy=f"http://127.0.0.1:{ports['proxy']}", timeout=10) as client:
            page = client.get("http://adult.example/some/page", headers={"Accept": "text/html"})
        assert page.status_code == 403
        assert "Adult content" in page.text
        match = re.search(r"[A-Z2-9]{3}-[A-Z2-9]{3}-[A-Z2-9]{3}", page.text)
        assert match, page.text[:500]
        # ... and never lets a client reach the gateway's own services through it
        with httpx.Client(proxy=f"http://127.0.0.1:{ports['proxy']}", timeout=10) as client:
            inside = client.get(f"http://127.0.0.1:{ports['metrics']}/metrics")
        assert inside.status_code == 403 and "filterproxy_" not in inside.text
        tunnel = subprocess.run(["curl", "-sS", "--noproxy", "", "-p", "-x", f"http://127.0.0.1:{ports['proxy']}",
                                 f"http://127.0.0.1:{ports['metrics']}/metrics"], capture_output=True, text=True,
                                timeout=30, env={"PATH": "/usr/bin:/bin"})  # fmt: skip
        assert tunnel.returncode == 56 and "403" in tunnel.stderr and "filterproxy_" not in tunnel.stdout
        metrics = httpx.get(f"http://127.0.0.1:{ports['metrics']}/metrics", timeout=5).text
        assert "filterproxy_dns_" in metrics and "filterproxy_lists_entries" in metrics
        for secret in ("bet.example", "adult.example", "127.0.0.1\""):
            assert secret not in metrics, f"{secret} leaked into metrics"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert proc.returncode == 0, output
    assert "on the uvloop event loop" in output  # the loop `filterproxy dns` and bench.dns measure
    return match.group(0)


@pytest.mark.slow
def test_serve_blocks_records_counts_and_drains(tmp_path: Path, upstream: int) -> None:
    config, ports = write_config(tmp_path, upstream)
    reference = exercise_serve([sys.executable, "-m", "filterproxy.cli", "--config", str(config), "serve"],
                               REPO, ports)
    incidents = json.loads(cli(config, "incidents", "list", "--json"))
    by_host = {i.get("host"): i for i in incidents}
    assert "www.bet.example" in by_host and by_host["www.bet.example"]["protocol"] == "dns"
    assert by_host["www.bet.example"]["category"] == "gambling"
    assert "adult.example" in by_host and by_host["adult.example"]["protocol"] == "http"
    shown = cli(config, "incidents", "show", reference)
    assert "adult.example" in shown
