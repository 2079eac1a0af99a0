"""The public suffix rules the service hands to the core: tldextract's bundled snapshot, never fetched.

Read through tldextract's public API with no list URLs and no cache directory, so nothing is ever
downloaded or written; loaded once per process, on first use (not at import time). The module-level
:func:`registrable_domain` and :func:`public_suffix_start` are for code outside the core (the hostname
model's features, the background fetcher); the classifier gets its :class:`PublicSuffixes` handed in.
"""

from __future__ import annotations

from functools import cache

from filterproxy.classify.site import PublicSuffixes


@cache
def bundled_suffixes() -> PublicSuffixes:
    """The ICANN rules of the public suffix snapshot that ships inside tldextract."""
    import tldextract  # imports requests: only where suffixes are wanted

    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True,
                                      include_psl_private_domains=False)
    return PublicSuffixes(extractor.tlds)


def registrable_domain(name: str) -> str:
    return bundled_suffixes().registrable_domain(name)


def public_suffix_start(name: str) -> int:
    return bundled_suffixes().public_suffix_start(name)
