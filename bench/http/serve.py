"""One filterproxy proxy worker for the benchmark (a separate process, so its CPU is measurable).

    python -m bench.http.serve --names FILE --port PORT --data DIR [--no-filter]

``--no-filter`` runs the very same embedded mitmproxy (same options, same Master) without the
filter addon and with every TLS connection ignored: the baseline for the addon's overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from pathlib import Path


async def serve(names_file: Path, port: int, data: Path, no_filter: bool) -> None:
    from prometheus_client import CollectorRegistry

    from filterproxy.config.model import Config
    from filterproxy.http.server import ProxyServer, mitmproxy_options
    from filterproxy.incidents.event import NullSink
    from filterproxy.lists.testing import make_engine

    config = Config.model_validate({"data_dir": str(data), "proxy": {"listen": f"127.0.0.1:{port}"}})
    if no_filter:
        await _plain(mitmproxy_options(config, config.proxy.listen, "explicit"))
        return
    started = time.monotonic()
    names = names_file.read_text().split()
    engine = make_engine({"gambling": names})
    del names
    gc.collect()
    gc.freeze()  # as `filterproxy proxy` does after loading lists: the collector never rescans them
    print(f"index built in {time.monotonic() - started:.1f}s", flush=True)
    server = ProxyServer(config, engine, NullSink(), CollectorRegistry())
    await server.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def _plain(options: dict[str, object]) -> None:
    from mitmproxy import master
    from mitmproxy import options as mitm_options

    from filterproxy.http.server import proxy_addons

    Path(str(options["confdir"])).mkdir(parents=True, exist_ok=True)
    plain = master.Master(mitm_options.Options(), event_loop=asyncio.get_running_loop())
    plain.addons.add(*proxy_addons())  # type: ignore[no-untyped-call]  # filterproxy's addon set, minus the filter
    plain.options.update(**options, ignore_hosts=[".*"])  # type: ignore[no-untyped-call]
    print("ready", flush=True)
    await plain.run()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--names", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--no-filter", action="store_true")
    args = parser.parse_args()
    asyncio.run(serve(args.names, args.port, args.data, args.no_filter))


if __name__ == "__main__":
    main()
