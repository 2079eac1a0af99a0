"""squid + squidGuard as a transparent (intercepting) proxy in the lab's gateway namespace."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.gateway.lab import GW_LAN, Lab

SQUID_CONF = """
http_port 127.0.0.1:3128
http_port 3129 intercept
http_access allow all
cache deny all
cache_mem 8 MB
access_log none
cache_log {d}/cache.log
pid_filename {d}/squid.pid
coredump_dir {d}
shutdown_lifetime 1 second
cache_effective_user proxy
url_rewrite_program /usr/bin/squidGuard -c {d}/squidGuard.conf
url_rewrite_children {children} startup={children} idle=1 concurrency=0
"""

SQUIDGUARD_CONF = """
dbhome {d}/db
logdir {d}/log
dest gambling {{
    domainlist gambling/domains
}}
acl {{
    default {{
        pass !gambling all
        redirect http://{blockpage}/blocked
    }}
}}
"""

PROXY_PORT = 3129


def start_squid(lab: Lab, children: int = 5) -> None:
    """squid with squidGuard (concurrency=0: with more it silently allows everything)."""
    d = lab.workdir / "squid"
    (d / "db" / "gambling").mkdir(parents=True, exist_ok=True)
    (d / "log").mkdir(exist_ok=True)
    (d / "db" / "gambling" / "domains").write_text("bet.example\n")
    (d / "squid.conf").write_text(SQUID_CONF.format(d=d, children=children))
    (d / "squidGuard.conf").write_text(SQUIDGUARD_CONF.format(d=d, blockpage=GW_LAN))
    subprocess.run(["squidGuard", "-c", str(d / "squidGuard.conf"), "-C", "all"], check=True, capture_output=True)
    subprocess.run(["chown", "-R", "proxy:proxy", str(d)], check=True)
    for parent in (d.parent, *d.parents):
        if parent == Path("/"):
            break
        parent.chmod(parent.stat().st_mode | 0o011)  # the proxy user must reach the directory
    lab.spawn(lab.gateway, ["squid", "-N", "-f", str(d / "squid.conf")], "squid")
    lab.wait_tcp(lab.gateway, "127.0.0.1", PROXY_PORT - 1, timeout=30)
