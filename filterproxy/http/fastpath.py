"""Passthrough decided in mitmproxy's ``next_layer`` event, before it builds any TLS layer.

The ``tls_clienthello`` hook alone would do, but by then mitmproxy has set up a TLS layer pair
that it replaces with fake connections when the addon ignores the connection: measurably more
CPU per tunnel than its own ``ignore_hosts`` path (bench/http). Here the ClientHello is parsed
from the first client bytes, as mitmproxy's NextLayer does for ``ignore_hosts``, and allowed or
refused connections get a plain TCP relay straight away. Intercepted ones are left to
mitmproxy (and decided again, identically, in ``tls_clienthello``).

These are mitmproxy internals; if a future version moves them, the fast path switches itself
off and ``tls_clienthello`` decides everything.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

try:
    from mitmproxy.net.tls import starts_like_tls_record
    from mitmproxy.proxy.layers import TCPLayer
    from mitmproxy.proxy.layers.tls import parse_client_hello

    AVAILABLE = True
except ImportError:  # pragma: no cover - depends on the mitmproxy version
    AVAILABLE = False
    log.info("mitmproxy internals moved: passthrough decided in tls_clienthello only")


def client_hello(nextlayer: Any) -> Any | None:
    """The complete ClientHello at the start of a TCP connection with a known destination, or None."""
    if not AVAILABLE or nextlayer.layer is not None:
        return None
    context = nextlayer.context
    if context.client.transport_protocol != "tcp" or not context.server.address or context.client.tls:
        return None
    data = nextlayer.data_client()
    if not starts_like_tls_record(data):
        return None
    try:
        return parse_client_hello(data)  # None while incomplete: mitmproxy waits for more bytes
    except ValueError:
        return None


def relay(context: Any) -> Any:
    """A TCP layer that forwards the bytes untouched (mitmproxy's own ``ignore_hosts`` relay)."""
    return TCPLayer(context, ignore=True)
