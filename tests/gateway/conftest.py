"""Fixtures for gateway tests: throwaway network namespaces and an nft that runs inside one."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from filterproxy.config.loader import load_config
from filterproxy.config.model import Config


def _netns_refusal() -> str | None:
    """Why namespaces cannot be used here, or None when they can."""
    if shutil.which("ip") is None or shutil.which("nft") is None:
        return "iproute2 and nftables are needed (scripts/bootstrap.sh test installs them)"
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"fpprobe{secrets.token_hex(3)}"
    done = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"the kernel refuses network namespaces: {done.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], check=False)
    return None


NETNS_REFUSAL = _netns_refusal()
needs_netns = pytest.mark.skipif(NETNS_REFUSAL is not None, reason=str(NETNS_REFUSAL))


@pytest.fixture
def netns() -> Iterator[str]:
    """An empty network namespace (only its own loopback), deleted afterwards."""
    if NETNS_REFUSAL is not None:
        pytest.skip(NETNS_REFUSAL)
    name = f"fpgw{secrets.token_hex(4)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


@pytest.fixture
def nft_in(netns: str, tmp_path: Path) -> Path:
    """A program path for `gateway.nft` that runs nft inside the test's namespace."""
    wrapper = tmp_path / "nft-in-netns"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {netns} nft "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def write_config(directory: Path, **sections: object) -> Path:
    """A config file with the given sections (dicts), next to a fresh data directory."""
    path = directory / "filterproxy.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(directory / "var"), **sections}))
    return path


def make_config(directory: Path, **sections: object) -> Config:
    return load_config(write_config(directory, **sections), env={})


def run_in(netns: str, *argv: str, text: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", netns, *argv],
        input=text, capture_output=True, text=True, timeout=60, check=False,
    )
