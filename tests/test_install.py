"""What a user runs, run as a user would: the wheel in a clean venv, and the README from a fresh clone.

The rest of the suite runs from the developer's editable ``.[dev]`` install, which hides a runtime
import that only a dev extra provides. These two tests do not:

* the package is built as a wheel (as the Dockerfile does) and installed into a brand-new venv
  **without extras** from a local wheelhouse (``scripts/bootstrap.sh test`` fills it), then
  ``filterproxy serve`` from that venv must block over DNS and HTTP, serve ``/metrics`` and exit
  cleanly on SIGTERM;
* the repository's files are copied to a directory with no ``../shared`` beside it, the README's own
  run command is started there, and the README's "Try it" block is run exactly as written.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_serve import exercise_serve, upstream, write_config

REPO = Path(__file__).resolve().parents[1]
WHEELHOUSE = REPO / ".venv" / "wheelhouse"
# (interpreter, wheelhouse): the suite's own Python (mitmproxy 11 line) and, where there is one, the
# Docker image's newer Python (mitmproxy 12 line); scripts/bootstrap.sh test fills both wheelhouses.
WHEELHOUSE_312 = REPO / ".venv" / "wheelhouse-py3.12"
PYTHONS = {
    "python3.11": (sys.executable, WHEELHOUSE),
    "python3.12": ((WHEELHOUSE_312 / "INTERPRETER").read_text().strip() if WHEELHOUSE_312.is_dir() else None,
                   WHEELHOUSE_312),
}
README = (REPO / "README.md").read_text(encoding="utf-8")

__all__ = ["upstream"]  # the fixture, re-exported for this module's tests


def readme_block(after: str) -> list[str]:
    """The command lines of the first ```sh block after the line containing ``after``."""
    tail = README[README.index(after) :]
    block = re.search(r"```sh\n(.*?)```", tail, re.S)
    assert block, f"no sh block after {after!r} in README.md"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#")]


def command_of(line: str) -> str:
    return line.split("  #", 1)[0].strip()


def readme_command(purpose: str) -> str:
    """The Quick start command whose comment starts with ``purpose``."""
    for line in readme_block("## Quick start"):
        if "#" in line and line.split("#", 1)[1].strip().startswith(purpose):
            return command_of(line)
    raise AssertionError(f"README's Quick start has no command for {purpose!r}")


def copy_tree(target: Path) -> Path:
    """The files a fresh clone has (tracked or new, never ignored): no .venv, var/ or caches."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def pip(venv: Path, *args: str) -> None:
    subprocess.run([str(venv / "bin" / "pip"), "-q", "--disable-pip-version-check", *args],
                   check=True, capture_output=True, timeout=600)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert readme_command("run the whole test suite") in [line.strip() for line in ci]


@pytest.mark.slow
@pytest.mark.parametrize("python", sorted(PYTHONS))
def test_wheel_in_a_clean_venv_serves(tmp_path: Path, upstream: int, python: str) -> None:
    interpreter, wheelhouse = PYTHONS[python]
    if python != "python3.11" and (interpreter is None or not wheelhouse.is_dir()):
        pytest.skip(f"no {python} on this machine")
    assert interpreter and wheelhouse.is_dir(), "scripts/bootstrap.sh test builds the wheelhouse"
    source = copy_tree(tmp_path / "src")
    venv = tmp_path / "venv"
    subprocess.run([interpreter, "-m", "venv", str(venv)], check=True, timeout=120)
    # as the Dockerfile: build the wheel, then install it with no index and no extras
    pip(venv, "wheel", "--no-index", "--find-links", str(wheelhouse), "--no-deps",
        "--wheel-dir", str(tmp_path / "wheels"), str(source))
    pip(venv, "install", "--no-index", "--find-links", str(tmp_path / "wheels"),
        "--find-links", str(wheelhouse), "filterproxy")
    check = subprocess.run([str(venv / "bin" / "pip"), "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout  # e.g. an h11 that mitmproxy's pin refuses
    python = str(venv / "bin" / "python")
    dev_only = subprocess.run([python, "-c", "import pytest"], capture_output=True, cwd=tmp_path)
    assert dev_only.returncode != 0, "the clean venv must not have the dev extra"
    for args in (["--help"], ["check", "--help"], ["selftest", "--help"], ["review", "--help"]):
        shown = subprocess.run([str(venv / "bin" / "filterproxy"), *args], capture_output=True, text=True,
                               cwd=tmp_path, timeout=60)
        assert shown.returncode == 0, shown.stderr
    config, ports = write_config(tmp_path, upstream)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    exercise_serve([str(venv / "bin" / "filterproxy"), "--config", str(config), "serve"], tmp_path, ports, env)


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Iterator[Path]:
    clone = copy_tree(tmp_path / "school" / "filterproxy")
    assert not (clone.parent / "shared").exists()
    yield clone


def run_line(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command_of(line)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.slow
def test_readme_run_command_and_try_it_from_a_fresh_clone(fresh_clone: Path) -> None:
    run = readme_command("start the whole service")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "FILTERPROXY"))}
    env["FILTERPROXY__LISTS__OFFLINE"] = "true"  # tests never reach the internet: starter lists only
    try_it = readme_block("Try it")
    dig_line = next(line for line in try_it if line.startswith("dig "))
    started = time.monotonic()
    service = subprocess.Popen(["bash", "-c", f"exec {run}"], cwd=fresh_clone, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        answer = None
        while time.monotonic() - started < 300 and service.poll() is None:
            answer = run_line(dig_line + " +tries=1 +time=1", fresh_clone, env)
            if answer.returncode == 0 and "ANSWER SECTION" in answer.stdout:
                break
            time.sleep(0.5)
        first_answer = time.monotonic() - started
        assert service.poll() is None, service.communicate()[0][-3000:]
        assert answer is not None and "ANSWER SECTION" in answer.stdout, answer
        proxy = re.search(r"-x (\S+)", next(line for line in try_it if line.startswith("curl ")))
        assert proxy
        proxy_port = int(proxy.group(1).rsplit(":", 1)[1].rstrip("/"))
        while time.monotonic() - started < 300 and service.poll() is None:  # the proxy starts after DNS
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", proxy_port)) == 0:
                    break
            time.sleep(0.2)
        (REPO / "artifacts").mkdir(exist_ok=True)
        (REPO / "artifacts" / "first-answer-seconds.txt").write_text(f"{first_answer:.1f}\n")
        print(f"README run command answered DNS {first_answer:.1f} s after start (venv build included)")
        outputs = {command_of(line).split()[0]: run_line(line, fresh_clone, env) for line in try_it}
        check_dig(outputs["dig"].stdout)
        check_curl(outputs["curl"].stdout)
        verdict = outputs[".venv/bin/filterproxy"]
        assert verdict.returncode == 0, verdict.stderr
        check_verdict(verdict.stdout)
        with httpx.Client(proxy=proxy.group(1), timeout=10) as client:
            assert client.get("http://pornhub.com/").status_code == 403
    finally:
        service.send_signal(signal.SIGTERM)
        try:
            output, _ = service.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            service.kill()
            output, _ = service.communicate()
    assert service.returncode == 0, output[-3000:]


def said(pattern: str) -> str:
    """What README's notes under the Try it block say a command prints (a backticked phrase)."""
    notes = README[README.index("Try it") : README.index("## Configuration")]
    found = re.search(pattern, notes)
    assert found, f"README's Try it notes no longer say {pattern!r}"
    return " ".join(found.group(1).split())


def printed_says(printed: str, phrase: str) -> bool:
    return phrase in " ".join(printed.split())


def check_dig(printed: str) -> None:
    """dig prints what README says: NOERROR, the block page address and the EDE with its category."""
    for phrase in (said(r"`(status: NOERROR)`"), said(r"`(bet365\.com\.\s+\d+\s+IN\s+A\s+[\d.]+)`"),
                   said(r"`(EDE: \d+ \(\w+\): \(\w+\))`")):
        assert printed_says(printed, phrase), f"{phrase!r} not in:\n{printed}"


def check_curl(printed: str) -> None:
    for phrase in (said(r"`(Blocked by [^`]+)`"), said(r"`(Category: [^`]+)`")):
        assert printed_says(printed, phrase), f"{phrase!r} not in:\n{printed[:1000]}"
    assert re.search(r"Reference: [A-Z2-9]{3}-[A-Z2-9]{3}-[A-Z2-9]{3}", printed), printed[:1000]


def check_verdict(printed: str) -> None:
    phrase = said(r"`(facebook\.com BLOCK [^`(]+?)\s*(?:source=|\(|`)")
    assert printed_says(printed, phrase), f"{phrase!r} not in:\n{printed}"
