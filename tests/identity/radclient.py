"""Driving Debian's radclient (freeradius-utils) against a listener: a real RADIUS client."""

from __future__ import annotations

import subprocess

DICTIONARY = "/usr/share/freeradius"


def radclient(port: int, secret: str, attributes: dict[str, str], *, timeout: float = 1.0) -> tuple[bool, str]:
    """Send one Accounting-Request; (an Accounting-Response came back and verified, radclient's output)."""
    line = ", ".join(f"{key} = {value}" for key, value in attributes.items())
    out = subprocess.run(
        ["radclient", "-x", "-D", DICTIONARY, "-r", "1", "-t", str(timeout), f"127.0.0.1:{port}", "acct", secret],
        input=line + "\n", capture_output=True, text=True, timeout=30,
    )
    text = out.stdout + out.stderr
    return out.returncode == 0 and "Received Accounting-Response" in text, text


def start(user: str, address: str, **extra: str) -> dict[str, str]:
    return {"User-Name": user, "Acct-Status-Type": "Start", "Framed-IP-Address": address,
            "Acct-Session-Id": f"s-{user}-{address}", **extra}


def stop(user: str, address: str) -> dict[str, str]:
    return {"User-Name": user, "Acct-Status-Type": "Stop", "Framed-IP-Address": address,
            "Acct-Session-Id": f"s-{user}-{address}"}
