"""The gateway node of the lab: filterproxy's proxy (transparent), resolver and steering in one process.

Run inside the lab's gateway namespace (``ip netns exec GW python -m bench.gateway.node ...``),
with a classifier built from the lab's fixed lists. It prints ``ready`` once listening and
serves its Prometheus registry on ``--metrics`` so tests and the benchmark read the proxy's
own counters. SIGTERM stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server

from filterproxy.config.loader import load_config
from filterproxy.gateway.runtime import GatewayRuntime
from filterproxy.incidents.event import NullSink
from filterproxy.lists.testing import make_engine

DENY = {"gambling": ["bet.example"]}
URLS = {"adult": ["mixed.example/bad/"]}  # URL-level: mixed.example needs the proxy


async def _components(config_path: Path, with_dns: bool) -> list[Any]:
    """The parts `filterproxy serve` composes on a gateway, over the lab's fixed lists."""
    from filterproxy.http.server import ProxyServer

    config = load_config(config_path, env={})
    engine = make_engine(deny=DENY, urls=URLS)
    registry = CollectorRegistry()
    gateway = GatewayRuntime(config, engine, registry, watch_interval=1.0)
    parts: list[Any] = [gateway]
    if with_dns:
        from filterproxy.dns.server import DnsServer

        parts.append(DnsServer(config, engine, NullSink(), registry, observer=gateway.observer))
    proxy_options = {"ssl_insecure": True}  # the lab's origin has a self-signed certificate
    parts.append(ProxyServer(config, engine, NullSink(), registry, options=proxy_options))
    parts.append(registry)
    return parts


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.gateway.node")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--metrics", type=int, default=9190, help="metrics port (127.0.0.1)")
    parser.add_argument("--no-dns", action="store_true", help="do not run filterproxy's resolver")
    args = parser.parse_args(argv)
    *parts, registry = await _components(args.config, not args.no_dns)
    start_http_server(args.metrics, addr="127.0.0.1", registry=registry)
    for part in parts:
        await part.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for part in reversed(parts):
        with contextlib.suppress(Exception):
            await part.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
