"""The servers under test, each on 127.0.0.1 with its own temp directory, started and stopped here.

The origin is nginx (HTTP + HTTPS with a self-signed certificate) so it is never the bottleneck.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.http.procs import stop, tree, wait_port
from tests.support import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    name: str
    ports: list[int]
    procs: list[subprocess.Popen[bytes]]
    load_seconds: float = 0.0
    blocked_status: str = ""
    notes: list[str] = field(default_factory=list)

    def pids(self) -> list[int]:
        return [p for proc in self.procs for p in tree(proc.pid)]

    def stop(self) -> None:
        for proc in self.procs:
            stop(proc)


def _popen(args: list[str], log: Path, **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT, **kwargs)  # type: ignore[call-overload,no-any-return]


def origin(work: Path) -> Server:
    """nginx answering 200 "ok" over HTTP and HTTPS."""
    d = work / "nginx"
    d.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=allowed.bench.test",
            "-keyout",
            str(d / "k.pem"),
            "-out",
            str(d / "c.pem"),
        ],
        check=True,
        capture_output=True,
    )
    http_port, https_port = free_port(), free_port()
    tmp = " ".join(f"{k}_temp_path {d}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (d / "nginx.conf").write_text(
        f"daemon off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/error.log;\n"
        f"events {{ worker_connections 4096; }}\nhttp {{ access_log off; {tmp} keepalive_requests 100000;\n"
        f'server {{ listen 127.0.0.1:{http_port}; location / {{ return 200 "ok\\n"; }} }}\n'
        f"server {{ listen 127.0.0.1:{https_port} ssl; ssl_certificate {d}/c.pem; ssl_certificate_key {d}/k.pem;"
        f' location / {{ return 200 "ok\\n"; }} }} }}\n'
    )
    proc = _popen(["nginx", "-c", str(d / "nginx.conf"), "-p", str(d)], d / "out.log")
    wait_port(http_port, 10, proc)
    wait_port(https_port, 10, proc)
    return Server("nginx origin", [http_port, https_port], [proc])


def squid_guard(work: Path, names: Path, origin_port: int, children: int = 5) -> Server:
    d = work / "squid"
    (d / "sg" / "blocked").mkdir(parents=True)
    (d / "sglog").mkdir()
    shutil.copyfile(names, d / "sg" / "blocked" / "domains")
    (d / "squidGuard.conf").write_text(
        f"dbhome {d}/sg\nlogdir {d}/sglog\ndest blocked {{\n  domainlist blocked/domains\n}}\n"
        f"acl {{\n  default {{\n    pass !blocked all\n"
        f"    redirect 302:http://127.0.0.1:{origin_port}/blocked\n  }}\n}}\n"
    )
    started = time.monotonic()
    subprocess.run(
        ["squidGuard", "-c", str(d / "squidGuard.conf"), "-C", "all"], check=True, capture_output=True, timeout=900
    )
    build = time.monotonic() - started
    port = free_port()
    (d / "squid.conf").write_text(
        f"http_port 127.0.0.1:{port}\npid_filename {d}/squid.pid\ncache_log {d}/cache.log\naccess_log none\n"
        f"cache deny all\ncache_mem 8 MB\ncoredump_dir {d}\nhttp_access allow all\n"
        f"url_rewrite_program /usr/bin/squidGuard -c {d}/squidGuard.conf\n"
        f"url_rewrite_children {children} startup={children} idle={children} concurrency=0\n"
        "cache_effective_user proxy\nshutdown_lifetime 1 second\nmax_filedescriptors 8192\n"
        "dns_nameservers 127.0.0.1\nvisible_hostname bench\nnetdb_filename none\n"
    )
    subprocess.run(["chown", "-R", "proxy:proxy", str(d)], check=True)
    proc = _popen(["squid", "-N", "-f", str(d / "squid.conf")], d / "out.log")
    wait_port(port, 60, proc)
    server = Server("squid 5.7 + squidGuard 1.6", [port], [proc], build, "302")
    server.notes.append(f"squidGuard -C all: {build:.1f}s; {children} helpers, concurrency=0")
    return server


def e2guardian(work: Path, names: Path) -> Server:
    d = work / "e2g"
    shutil.copytree("/etc/e2guardian", d / "etc")
    (d / "log").mkdir()
    port = free_port()
    for conf in (d / "etc").rglob("*.conf"):
        text = conf.read_text(errors="replace").replace("/etc/e2guardian", str(d / "etc"))
        conf.write_text(text)
    main_conf = d / "etc" / "e2guardian.conf"
    text = main_conf.read_text()
    settings = {
        "filterip": "127.0.0.1",
        "filterports": str(port),
        "nodaemon": "on",
        "pidfilename": f"'{d}/e2g.pid'",
        "loglocation": f"'{d}/log/access.log'",
        "nologger": "on",
        "logconnectionhandlingerrors": "off",
        "httpworkers": "200",
    }
    text = re.sub(r"(?m)^#?\s*(" + "|".join(settings) + r")\s*=.*$", "", text)
    text += "\n" + "".join(f"{k} = {v}\n" for k, v in settings.items())
    main_conf.write_text(text)
    for lst in ("bannedsitelist", "bannedsslsitelist"):
        shutil.copyfile(names, d / "etc" / "lists" / lst)
    subprocess.run(["chown", "-R", "e2guardian:e2guardian", str(d)], check=False)
    started = time.monotonic()
    proc = _popen(["e2guardian", "-N", "-c", str(main_conf)], d / "out.log")
    wait_port(port, 300, proc)
    return Server("e2guardian 5.3", [port], [proc], time.monotonic() - started, "200 (page)")


def mitmdump(work: Path) -> Server:
    port = free_port()
    exe = Path(sys.executable).parent / "mitmdump"
    proc = _popen(
        [
            str(exe),
            "-q",
            "--listen-host",
            "127.0.0.1",
            "-p",
            str(port),
            "--set",
            "connection_strategy=lazy",
            "--set",
            f"confdir={work / 'mitmdump-ca'}",
            "--ignore-hosts",
            ".*",
        ],
        work / "mitmdump.log",
    )
    wait_port(port, 30, proc)
    return Server("mitmdump 11 alone", [port], [proc])


def filterproxy(work: Path, names: Path, workers: int = 1, *, no_filter: bool = False) -> Server:
    ports, procs = [], []
    started = time.monotonic()
    for _n in range(workers):
        port = free_port()
        args = [
            sys.executable,
            "-m",
            "bench.http.serve",
            "--names",
            str(names),
            "--port",
            str(port),
            "--data",
            str(work / f"fp-{port}"),
        ]
        procs.append(_popen(args + (["--no-filter"] if no_filter else []), work / f"fp-{port}.log", cwd=REPO))
        ports.append(port)
    for port, proc in zip(ports, procs, strict=True):
        wait_port(port, 600, proc)
    label = "embedded mitmproxy, no filter" if no_filter else f"filterproxy x{workers}"
    return Server(label, ports, procs, time.monotonic() - started, "" if no_filter else "403")
