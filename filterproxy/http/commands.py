"""`filterproxy proxy` (the filtering proxy alone) and `filterproxy ca init|export` (the school CA)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from filterproxy.config.loader import default_config_path, load_config
from filterproxy.config.model import Config
from filterproxy.config.types import HostPort
from filterproxy.errors import ConfigError
from filterproxy.http.ca import export_ca, init_ca, read_ca

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    proxy = sub.add_parser("proxy", help="run the filtering HTTP(S) proxy alone (mitmproxy with the filter)")
    proxy.add_argument("--listen", metavar="HOST:PORT", help="listen address (default: proxy.listen)")
    proxy.add_argument("--mode", choices=["explicit", "transparent"], help="default: proxy.mode")
    proxy.add_argument("--metrics", metavar="HOST:PORT", help="serve Prometheus metrics here (default: metrics.*)")
    proxy.set_defaults(handler=run_proxy)
    ca = sub.add_parser("ca", help="the school CA used for block pages over HTTPS and full interception")
    ca_sub = ca.add_subparsers(dest="ca_command", metavar="ACTION", required=True)
    init = ca_sub.add_parser("init", help="create the school CA in <data_dir>/ca")
    init.add_argument("--force", action="store_true", help="replace an existing CA (devices must trust the new one)")
    init.set_defaults(handler=ca_init)
    export = ca_sub.add_parser("export", help="write the CA certificate (PEM, CRT, DER; never the key)")
    export.add_argument("--out", type=Path, default=Path("."), help="output directory (default: .)")
    export.set_defaults(handler=ca_export)


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config or default_config_path(), data_dir=args.data_dir)


def ca_init(args: argparse.Namespace) -> int:
    config = _config(args)
    info = init_ca(config.data_dir / "ca", config.block.school_name, force=args.force)
    print(f"created {info.subject}\n  certificate: {info.pem}")
    print(f"  SHA-256: {info.sha256}\n  valid until: {info.not_after}")
    print("next: `filterproxy ca export --out DIR`, then deploy it (docs/tls-interception.md)")
    return 0


def ca_export(args: argparse.Namespace) -> int:
    config = _config(args)
    info = read_ca(config.data_dir / "ca")
    for path in export_ca(config.data_dir / "ca", args.out):
        print(path)
    print(f"SHA-256 fingerprint (check it on devices): {info.sha256}")
    return 0


def run_proxy(args: argparse.Namespace) -> int:
    config = _config(args)
    listen, metrics = _address("--listen", args.listen), _address("--metrics", args.metrics)
    asyncio.run(_serve(config, listen, args.mode, metrics))
    return 0


def _address(option: str, value: str | None) -> str | None:
    """Validate a HOST:PORT option as the configuration would."""
    if value is None:
        return None
    try:
        return TypeAdapter(HostPort).validate_python(value)
    except ValidationError as exc:
        raise ConfigError(f"{option}: {exc.errors()[0]['msg']}") from exc


async def _serve(config: Config, listen: str | None, mode: str | None, metrics: str | None) -> None:
    from prometheus_client import CollectorRegistry

    from filterproxy.http.server import ProxyServer
    from filterproxy.incidents.queue import IncidentQueue
    from filterproxy.lists.loader import load_engine
    from filterproxy.metrics.exporter import MetricsServer

    registry = CollectorRegistry()
    engine = await asyncio.to_thread(load_engine, config)
    gc.collect()
    gc.freeze()  # the loaded lists and mitmproxy's modules: never rescanned by the cyclic collector
    queue = IncidentQueue(config.incidents, config.data_dir, registry)
    metrics_settings = config.metrics.model_copy(update={"listen": metrics}) if metrics else config.metrics
    from filterproxy.identity.runtime import IdentityRuntime

    identity = IdentityRuntime(config, registry, radius=False) if config.identity.proxy_auth.enabled else None
    proxy = ProxyServer(config, engine, queue, registry, listen=listen, mode=mode, identity=identity)
    components: list[Any] = [queue, *([identity] if identity is not None else []), proxy]
    if metrics or config.metrics.enabled:
        components.append(MetricsServer(metrics_settings, registry))
    started: list[Any] = []
    try:
        for component in components:
            await component.start()
            started.append(component)
        await _wait_for_signal()
    finally:
        for component in reversed(started):
            await component.stop()


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
