"""A throwaway three-namespace school network: pupil client, gateway, and a tiny "internet".

    client ns            gateway ns                      internet ns
    eth0 10.213.1.2 ---- lan0 10.213.1.1                 origin 10.213.3.10-13 (nginx, HTTP + HTTPS)
                         wan0 10.213.2.1 -------------- eth0 10.213.2.2   public DNS 9.9.9.9 (dnsmasq)

Every address exists only inside namespaces this module creates, and :meth:`Lab.destroy`
deletes them (and every process started in them). Used by tests/gateway and bench/gateway.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENT, GW_LAN, GW_WAN, NET_WAN = "10.213.1.2", "10.213.1.1", "10.213.2.1", "10.213.2.2"
ORIGIN, STEERED, OTHER, SPARE = "10.213.3.10", "10.213.3.11", "10.213.3.12", "10.213.3.13"
PUBLIC_DNS = "9.9.9.9"  # a "public resolver" and DoH endpoint, assigned inside the internet namespace only
# IPv6: unique-local prefixes inside the namespaces, plus Quad9's v6 address (again only in there)
CLIENT6, GW_LAN6, GW_WAN6, NET_WAN6 = "fd21:3:1::2", "fd21:3:1::1", "fd21:3:2::1", "fd21:3:2::2"
ORIGIN6, PUBLIC_DNS6 = "fd21:3:3::10", "2620:fe::fe"
NAMES = {  # what the internet's DNS answers
    "allowed.example": ORIGIN,
    "mixed.example": STEERED,  # URL-level entries: needs the proxy
    "bet.example": OTHER,  # blocked by category
    "other.example": SPARE,
    "dns.quad9.example": PUBLIC_DNS,
}

NGINX_CONF = """
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
user root root;
events {{ worker_connections 4096; }}
http {{
    log_format fmt '$remote_addr $server_addr $scheme $host $request_uri $status';
    access_log {d}/access.log fmt;
    client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
    uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 80 reuseport; listen 443 ssl reuseport; listen [::]:80 reuseport; listen [::]:443 ssl reuseport;
        ssl_certificate {d}/origin.pem; ssl_certificate_key {d}/origin.key;
        location / {{ default_type text/plain; return 200 "origin $host $request_uri\\n"; }}
    }}
}}
"""


@dataclass
class Lab:
    """The namespaces, their processes and a scratch directory."""

    workdir: Path
    suffix: str = field(default_factory=lambda: secrets.token_hex(3))
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def client(self) -> str:
        return f"fpc{self.suffix}"

    @property
    def gateway(self) -> str:
        return f"fpg{self.suffix}"

    @property
    def internet(self) -> str:
        return f"fpi{self.suffix}"

    def sh(
        self, ns: str, *argv: str, text: str | None = None, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in a namespace; the result is returned whatever the exit code."""
        return subprocess.run(
            ["ip", "netns", "exec", ns, *argv], input=text, capture_output=True, text=True, timeout=timeout,
            check=False,
        )

    def must(self, ns: str, *argv: str, text: str | None = None) -> str:
        done = self.sh(ns, *argv, text=text)
        if done.returncode != 0:
            raise RuntimeError(f"{ns}: {' '.join(argv)} failed: {done.stderr.strip()}")
        return done.stdout

    def spawn(self, ns: str, argv: list[str], name: str, cwd: Path | None = None) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, *argv], stdout=log, stderr=subprocess.STDOUT, cwd=cwd
        )
        self.procs.append(proc)
        return proc

    def create(self) -> Lab:
        for ns in (self.client, self.gateway, self.internet):
            subprocess.run(["ip", "netns", "add", ns], check=True)
            self.must(ns, "ip", "link", "set", "lo", "up")
        link = ["ip", "link", "add"]
        subprocess.run([*link, "lan0", "netns", self.gateway, "type", "veth", "peer", "name", "eth0",
                        "netns", self.client], check=True)
        subprocess.run([*link, "wan0", "netns", self.gateway, "type", "veth", "peer", "name", "eth0",
                        "netns", self.internet], check=True)
        self._address(self.client, "eth0", f"{CLIENT}/24", via=GW_LAN)
        self._address(self.gateway, "lan0", f"{GW_LAN}/24")
        self._address(self.gateway, "wan0", f"{GW_WAN}/24", via=NET_WAN)
        self._address(self.internet, "eth0", f"{NET_WAN}/24")
        self.must(self.internet, "ip", "route", "add", "10.213.1.0/24", "via", GW_WAN)
        for address in (ORIGIN, STEERED, OTHER, SPARE, PUBLIC_DNS):
            self.must(self.internet, "ip", "addr", "add", f"{address}/32", "dev", "lo")
        self.must(self.gateway, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for ns in (self.client, self.gateway, self.internet):  # a connection per request, for minutes
            self.must(ns, "sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65000", "net.ipv4.tcp_tw_reuse=1")
        self._ipv6()
        return self

    def _ipv6(self) -> None:
        self.must(self.gateway, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
        for ns, dev, cidr in (
            (self.client, "eth0", f"{CLIENT6}/64"), (self.gateway, "lan0", f"{GW_LAN6}/64"),
            (self.gateway, "wan0", f"{GW_WAN6}/64"), (self.internet, "eth0", f"{NET_WAN6}/64"),
        ):
            self.must(ns, "ip", "-6", "addr", "add", cidr, "dev", dev, "nodad")
        self.must(self.client, "ip", "-6", "route", "add", "default", "via", GW_LAN6)
        self.must(self.gateway, "ip", "-6", "route", "add", "default", "via", NET_WAN6)
        self.must(self.internet, "ip", "-6", "route", "add", "fd21:3:1::/64", "via", GW_WAN6)
        for address in (ORIGIN6, PUBLIC_DNS6):
            self.must(self.internet, "ip", "-6", "addr", "add", f"{address}/128", "dev", "lo", "nodad")

    def _address(self, ns: str, dev: str, cidr: str, via: str | None = None) -> None:
        self.must(ns, "ip", "addr", "add", cidr, "dev", dev)
        self.must(ns, "ip", "link", "set", dev, "up")
        if via is not None:
            self.must(ns, "ip", "route", "add", "default", "via", via)

    def start_origin(self, workers: int = 1) -> None:
        """nginx in the internet namespace on every origin address, ports 80 and 443."""
        d = self.workdir / "origin"
        d.mkdir(exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=origin",
             "-keyout", str(d / "origin.key"), "-out", str(d / "origin.pem")],
            check=True, capture_output=True,
        )
        (d / "nginx.conf").write_text(NGINX_CONF.format(d=d, workers=workers))
        argv = ["nginx", "-p", str(d), "-c", str(d / "nginx.conf"), "-g", "daemon off;"]
        self.spawn(self.internet, argv, "nginx")
        self.wait_tcp(self.internet, ORIGIN, 80)

    def start_public_dns(self) -> None:
        """dnsmasq on 9.9.9.9:53 answering NAMES: the upstream, and what a hard-coded client would reach."""
        argv = ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "-u", "root",
                f"--listen-address={PUBLIC_DNS}", f"--listen-address={PUBLIC_DNS6}", "--bind-interfaces",
                "--log-queries",
                f"--pid-file={self.workdir / 'dnsmasq.pid'}"]
        argv += [f"--address=/{name}/{address}" for name, address in NAMES.items()]
        argv.append(f"--address=/allowed.example/{ORIGIN6}")
        self.spawn(self.internet, argv, "dnsmasq")
        self.wait_udp_dns(self.internet, PUBLIC_DNS)

    def gateway_config(self, mode: str, proxy_port: int | None = None, **extra: object) -> Path:
        """A filterproxy config for the gateway namespace (resolver :5353, transparent proxy :8080)."""
        import yaml

        config = {
            "data_dir": str(self.workdir / "var"),
            "dns": {
                "listen": "0.0.0.0:5353",
                "upstreams": [f"{PUBLIC_DNS}:53"],
                "allow_networks": [f"{CLIENT}/32", f"{CLIENT6}/128", "127.0.0.0/8", "::1/128"],
            },
            "proxy": {"listen": "0.0.0.0:8080", "mode": "transparent"},
            "block": {"dns_answer": "blockpage", "blockpage_ipv4": GW_LAN},
            "gateway": {
                "lan_interfaces": ["lan0"], "mode": mode, "flush_interval": 0.01,
                "proxy_port": proxy_port,
            },
            **extra,
        }
        path = self.workdir / f"gateway-{mode}{proxy_port or ''}.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    def load_gateway(self, mode: str, proxy_port: int | None = None, **extra: object) -> None:
        """Load (or replace) the gateway ruleset in the gateway namespace, as `gateway up` does."""
        from filterproxy.config.loader import load_config
        from filterproxy.gateway.ruleset import plan_from_config, render

        config = load_config(self.gateway_config(mode, proxy_port, **extra), env={})
        ruleset = render(plan_from_config(config))
        self.must(self.gateway, "nft", "-f", "-", text=ruleset)

    def start_node(self, mode: str, metrics_port: int = 9190, *, dns: bool = True) -> None:
        """filterproxy (proxy, resolver, steering) in the gateway namespace; waits until it listens."""
        argv = [sys.executable, "-m", "bench.gateway.node", "--config", str(self.gateway_config(mode)),
                "--metrics", str(metrics_port)]
        proc = self.spawn(self.gateway, [*argv, *([] if dns else ["--no-dns"])], "node", cwd=REPO)
        log = self.workdir / "node.log"
        self._wait(lambda: proc.poll() is not None or "ready" in log.read_text(), "filterproxy node", 60)
        if proc.poll() is not None:
            raise RuntimeError(f"filterproxy node exited: {log.read_text()[-2000:]}")

    def serve_config(self, mode: str) -> Path:
        """A complete config for `filterproxy serve` as the gateway, with the lab's lists as files."""

        lists = self.workdir / "lists"
        lists.mkdir(exist_ok=True)
        (lists / "gambling.txt").write_text("bet.example\n")
        (lists / "adult.urls").write_text("mixed.example/bad/\n")
        sources = [
            {"id": "lab/gambling", "category": "gambling", "path": str(lists / "gambling.txt"), "format": "plain"},
            {"id": "lab/adult-urls", "category": "adult", "path": str(lists / "adult.urls"), "format": "urls"},
        ]
        path = self.gateway_config(mode, lists={
            "sources": sources, "local_dir": str(lists / "local"), "update_interval_hours": 0,
        }, metrics={"listen": "127.0.0.1:9190"})
        return path.rename(self.workdir / f"serve-{mode}.yaml")

    def start_serve(self, config: Path) -> None:
        """`filterproxy gateway up` and `filterproxy serve` in the gateway namespace, as an admin would."""
        cli = [sys.executable, "-m", "filterproxy.cli", "--config", str(config)]
        self.must(self.gateway, *cli, "gateway", "up")
        proc = self.spawn(self.gateway, [*cli, "serve"], "serve", cwd=REPO)
        log = self.workdir / "serve.log"
        self._wait(lambda: proc.poll() is not None or "filterproxy serving" in log.read_text(), "serve", 60)
        if proc.poll() is not None:
            raise RuntimeError(f"filterproxy serve exited: {log.read_text()[-2000:]}")

    def metrics(self, port: int = 9190) -> dict[str, float]:
        """The node's samples, summed over labels except `handling`/`outcome` kept as name{value}."""
        from prometheus_client.parser import text_string_to_metric_families

        text = self.must(self.gateway, "curl", "-s", "-m", "5", f"http://127.0.0.1:{port}/metrics")
        sums: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                sums[sample.name] = sums.get(sample.name, 0.0) + sample.value
                for key in ("handling", "outcome", "action"):
                    if key in sample.labels:
                        name = f"{sample.name}{{{sample.labels[key]}}}"
                        sums[name] = sums.get(name, 0.0) + sample.value
        return sums

    def access_log(self) -> list[str]:
        path = self.workdir / "origin" / "access.log"
        return path.read_text().splitlines() if path.exists() else []

    def wait_tcp(self, ns: str, host: str, port: int, timeout: float = 10) -> None:
        probe = f"import socket; socket.create_connection(('{host}', {port}), 1).close()"
        self._wait(lambda: self.sh(ns, "python3", "-c", probe).returncode == 0, f"{host}:{port}", timeout)

    def wait_udp_dns(self, ns: str, host: str, port: int = 53, timeout: float = 10) -> None:
        def ready() -> bool:
            dig = ["dig", "+short", "+time=1", "+tries=1", "-p", str(port), f"@{host}"]
            done = self.sh(ns, *dig, "version.bind")
            return done.returncode == 0

        self._wait(ready, f"DNS on {host}:{port}", timeout)

    def _wait(self, ready: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{what} did not come up in {timeout:.0f} s; logs in {self.workdir}")

    def destroy(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs.clear()
        for ns in (self.client, self.gateway, self.internet):
            # processes left in a namespace (nginx workers) die with it only once killed
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False)
            for pid in pids.stdout.split():
                with contextlib.suppress(ProcessLookupError, ValueError, PermissionError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


def available() -> str | None:
    """Why the lab cannot run here, or None."""
    for tool in ("ip", "nft", "nginx", "dnsmasq", "dig", "openssl", "curl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (scripts/bootstrap.sh test installs it)"
    return None
