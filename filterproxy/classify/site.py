"""The registrable domain (eTLD+1) of a name, from tldextract's bundled public suffix snapshot.

tldextract is asked never to fetch (``suffix_list_urls=()``): the snapshot that ships with the
package is used, so tests and air-gapped gateways behave the same.
"""

from __future__ import annotations

from functools import lru_cache

import tldextract

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False)


@lru_cache(maxsize=65536)
def registrable_domain(name: str) -> str:
    """``www.bbc.co.uk`` -> ``bbc.co.uk``; a bare public suffix or IP literal is returned unchanged."""
    result = _EXTRACT(name)
    if result.domain and result.suffix:
        return f"{result.domain}.{result.suffix}"
    if not result.suffix and "." in name and not result.ipv4:
        return ".".join(name.rsplit(".", 2)[-2:])  # a TLD the snapshot does not know (e.g. .example)
    return name
