"""The filter as a mitmproxy script.

    mitmdump -s filterproxy/http/addon_script.py --set filterproxy_config=config/filterproxy.yaml


It loads the filterproxy configuration and the engine (``filterproxy.lists.loader.load_engine``)
when ``filterproxy_config`` is set, then hands every hook to the same :class:`FilterAddon` that
``filterproxy proxy`` embeds. Incidents go to the configured queue; metrics are kept in the
process (serve them with ``filterproxy proxy`` instead if you need /metrics).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # loaded by path: make the filterproxy package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mitmproxy import ctx, exceptions
from prometheus_client import CollectorRegistry

from filterproxy.errors import FilterproxyError
from filterproxy.http.addon import FilterAddon

log = logging.getLogger("filterproxy.http.addon_script")
_HOOKS = (
    "next_layer",
    "client_connected",
    "error",
    "http_connect",
    "tls_clienthello",
    "server_connect",
    "tls_failed_client",
    "client_disconnected",
    "requestheaders",
    "responseheaders",
    "response",
)


class ConfiguredFilter:
    """Declares ``filterproxy_config``; builds the filter from it and forwards the hooks."""

    def __init__(self) -> None:
        self.inner: FilterAddon | None = None
        self.queue: Any = None

    def load(self, loader: Any) -> None:
        loader.add_option("filterproxy_config", str, "", "filterproxy configuration file (YAML).")

    def configure(self, updated: set[str]) -> None:
        if "filterproxy_config" not in updated or not ctx.options.filterproxy_config:
            return
        from filterproxy.config.loader import load_config
        from filterproxy.http.server import build_addon
        from filterproxy.incidents.queue import IncidentQueue
        from filterproxy.lists.loader import load_engine

        try:
            config = load_config(Path(ctx.options.filterproxy_config))
            engine = load_engine(config)
            registry = CollectorRegistry()
            queue = IncidentQueue(config.incidents, config.data_dir, registry)
            queue.start_sync()
        except FilterproxyError as exc:
            raise exceptions.OptionsError(str(exc)) from exc  # type: ignore[no-untyped-call]
        if self.queue is not None:
            self.queue.stop_sync()
        self.queue = queue
        self.inner = build_addon(config, engine, self.queue, registry)
        log.info("filterproxy filter loaded from %s", ctx.options.filterproxy_config)

    def done(self) -> None:
        if self.queue is not None:
            self.queue.stop_sync()

    def __getattr__(self, name: str) -> Any:
        if name not in _HOOKS:
            raise AttributeError(name)
        return lambda *args: getattr(self.inner, name)(*args) if self.inner is not None else None


addons = [ConfiguredFilter()]
