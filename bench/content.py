"""Benchmark of page-content analysis: scan time per page size, and the proxy's overhead with it on.

    .venv/bin/python -m bench.content [--iterations 40] [--requests 200]

1. Scan time: synthetic pages (neutral prose with some markup, plus a share of phrases from the
   lists so matching does real work) of 10 KB, 100 KB and 256 KB (the default ``max_bytes``):
   decode, strip, normalise and score, median and p95 over ``--iterations`` runs.
2. Proxy overhead: a real mitmproxy (``ProxyServer``) with content analysis on and off, a local
   origin serving a 100 KB HTML page over plain HTTP (an unlisted destination); ``--requests`` sequential
   GETs through the proxy each, median and p95 latency. The difference is the cost of reading pages.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import json
import random
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from filterproxy.classify.engine import Engine
from filterproxy.config.model import Config
from filterproxy.content.analyser import Analyser, load_lists
from filterproxy.content.settings import ContentSettings
from filterproxy.http.server import ProxyServer
from filterproxy.lists.testing import make_engine

PROSE = (
    "the school library opens at nine and the science club meets on thursday after lunch while the weather "
    "stays mild with light rain students bring their homework books maps and a packed lunch for the trip to "
    "the museum where the guide explains the history of the town its river bridges markets and old churches"
)
WORDS = PROSE.split()
# phrases from the lists, so matching does real work; together they stay under every threshold
SPICE = ["casino", "drug awareness", "history of", "poker", "sexual health", "street fight", "weed"]


def synthetic_page(size: int, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Town news</title>",
             "<style>p{margin:0}</style><script>var x = 1;</script></head><body>"]  # fmt: skip
    length = sum(map(len, parts))
    while length < size:
        sentence = " ".join(rng.choices(WORDS, k=rng.randint(8, 20)))
        if rng.random() < 0.05:
            sentence += " " + rng.choice(SPICE)
        piece = f"<p>{sentence.capitalize()}. <a href='/x'>more</a></p>\n"
        parts.append(piece)
        length += len(piece)
    parts.append("</body></html>")
    return "".join(parts).encode()[:size]


def scan_times(iterations: int) -> list[dict[str, Any]]:
    analyser = Analyser(load_lists(None), 4 * 1024 * 1024)
    out = []
    for size in (10_000, 100_000, 262_144):
        page = synthetic_page(size)
        analyser.scan(page, "text/html")  # warm up
        times, cpu = [], []
        for _ in range(iterations):
            started, cpu_started = time.perf_counter(), time.thread_time()
            analyser.scan(page, "text/html")
            times.append(time.perf_counter() - started)
            cpu.append(time.thread_time() - cpu_started)
        median = statistics.median(times)
        out.append({
            "page_bytes": size,
            "median_ms": round(median * 1000, 2),
            "p95_ms": round(sorted(times)[int(0.95 * (len(times) - 1))] * 1000, 2),
            "mb_per_s": round(size / median / 1e6, 1),
            "cpu_median_ms": round(statistics.median(cpu) * 1000, 2),  # less moved by a loaded machine
        })  # fmt: skip
    return out


class _Page(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Sink:
    def submit(self, event: object) -> None:
        return None


def proxy_latency(enabled: bool, requests: int, origin_port: int, data_dir: Path) -> dict[str, Any]:
    config = Config(data_dir=data_dir, content=ContentSettings(enabled=enabled))
    engine: Engine = make_engine()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = ProxyServer(config, engine, _Sink(), CollectorRegistry(), listen="127.0.0.1:0")
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(60)
    gc.collect()
    gc.freeze()  # as `filterproxy serve` does once started: long-lived objects leave the collector's scans
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        times = []
        for i in range(requests + 5):
            started = time.perf_counter()
            # the origin by address: an unlisted destination, read like any page; the upstream connection is reused
            conn.request("GET", f"http://127.0.0.1:{origin_port}/page{i}", headers={"Accept": "text/html"})
            response = conn.getresponse()
            body = response.read()
            if i >= 5:  # the first few warm up connections and caches
                times.append(time.perf_counter() - started)
                assert response.status == 200 and len(body) == len(_Page.body), (response.status, body[:300])
        conn.close()
    finally:
        gc.unfreeze()
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
    return {
        "content_analysis": "on" if enabled else "off",
        "median_ms": round(statistics.median(times) * 1000, 2),
        "p95_ms": round(sorted(times)[int(0.95 * (len(times) - 1))] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    result: dict[str, Any] = {"scan": scan_times(args.iterations)}
    _Page.body = synthetic_page(100_000)
    origin = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        port = int(origin.server_address[1])
        result["proxy_100kb_page"] = [
            proxy_latency(enabled, args.requests, port, Path(tmp) / ("on" if enabled else "off"))
            for enabled in (False, True)
        ]
    origin.shutdown()
    off, on = result["proxy_100kb_page"]
    result["overhead_median_ms"] = round(on["median_ms"] - off["median_ms"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
