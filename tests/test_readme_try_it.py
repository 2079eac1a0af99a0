"""The README's "Try it" block says what the shipped configuration really answers.

The shipped config/filterproxy.yaml runs (on free loopback ports, with a local upstream) and the
three commands of the block are run against it with the real tools (dig, curl, the CLI); every
quoted piece of output in the README's description must appear in what they print.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.selftest.service import SHIPPED, Service
from tests.support import Loop

REPO = Path(__file__).resolve().parents[1]


def try_it_section() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("dig @127.0.0.1 -p 5353 bet365.com")
    return text[start : text.index("## Configuration", start)]


#: backticked words in the bullets that name things rather than quote output
NOT_OUTPUT = ("dig", "curl", "check", "curl -i", "docs/dns.md", "config/filterproxy.yaml")


def quoted(bullet_start: str) -> list[str]:
    """The output a bullet quotes: its backticked pieces, less names, commands and placeholders."""
    section = try_it_section()
    bullet = section[section.index(bullet_start) :].split("\n- ", 1)[0]
    pieces = re.findall(r"`([^`]+)`", " ".join(bullet.split()))
    return [q for q in pieces if q not in NOT_OUTPUT and "XXX" not in q and not q.startswith(("staff:", "ALLOW"))]


@pytest.fixture(scope="module")
def service(loop: Loop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = Service(loop, tmp_path_factory.mktemp("readme") / "var", {"FILTERPROXY__PROXY__ENABLED": "true"},
                      proxy=True)
    yield running
    running.close()


def test_dig_prints_what_the_readme_says(service: Service) -> None:
    dig = shutil.which("dig")
    if dig is None:
        pytest.skip("dig (dnsutils) is not installed; scripts/bootstrap.sh test installs it")
    out = subprocess.run([dig, "@127.0.0.1", "-p", str(service.dns_port), "bet365.com"],
                         capture_output=True, text=True, timeout=10).stdout
    expected = quoted("`dig` gets")
    assert "EDE: 15 (Blocked): (gambling)" in expected
    for piece in expected:
        assert " ".join(piece.split()) in " ".join(out.split()), (piece, out)


def test_curl_prints_what_the_readme_says(service: Service) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    proxy = f"http://127.0.0.1:{service.proxy_port}"
    body = subprocess.run([curl, "-s", "-x", proxy, "http://pornhub.com/"], capture_output=True, text=True,
                          timeout=20).stdout
    status = subprocess.run([curl, "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxy, "http://pornhub.com/"],
                            capture_output=True, text=True, timeout=20).stdout
    assert status == "403"
    expected = quoted("`curl` gets")
    assert "Category: Adult content" in expected
    for piece in expected:
        assert piece in body, (piece, body)
    assert re.search(r"Reference: [A-Z2-9]{3}-[A-Z2-9]{3}-[A-Z2-9]{3}", body)


@pytest.mark.parametrize("staff", [False, True])
def test_check_prints_what_the_readme_says(tmp_path: Path, staff: bool) -> None:
    env = {"PATH": "/usr/bin:/bin", "FILTERPROXY_DATA_DIR": str(tmp_path / "var")}
    if staff:
        env["FILTERPROXY__POLICY__GROUPS__STAFF__NETWORKS"] = "10.20.0.0/16"
    out = subprocess.run([sys.executable, "-m", "filterproxy.cli", "--config", str(SHIPPED), "check", "facebook.com",
                          "--client", "10.20.0.5"], capture_output=True, text=True, timeout=60, cwd=REPO, env=env,
                         check=True).stdout
    line = " ".join(out.split())
    if staff:
        assert line.startswith("facebook.com ALLOW") and "group=staff" in line
        return
    [described] = [q for q in quoted("`check` prints") if q.startswith("facebook.com")]
    head, _, tail = described.partition("(...")
    assert line.startswith(head.strip()) and line.endswith(tail.split(")", 1)[1].strip())
    assert tail.split(")", 1)[0] in line  # starter/social.txt:8
