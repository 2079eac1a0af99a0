"""The public suffix rules the wiring hands to the core: tldextract's bundled snapshot, never the network."""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime

import pytest

from filterproxy.lists.suffixes import bundled_suffixes, public_suffix_start, registrable_domain
from filterproxy.lists.testing import make_classifier
from filterproxy.model import Query


@pytest.mark.parametrize(
    ("name", "site"),
    [
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("foo.github.io", "github.io"),  # the ICANN section only
        ("y.x.kawasaki.jp", "y.x.kawasaki.jp"),
        ("a.city.kawasaki.jp", "city.kawasaki.jp"),
        ("pupil.school.sch.uk", "pupil.school.sch.uk"),  # *.sch.uk
        ("www.xn--fiqs8s", "www.xn--fiqs8s"),
    ],
)
def test_the_bundled_snapshot(name: str, site: str) -> None:
    assert registrable_domain(name) == site
    assert public_suffix_start("www.example.com") == len("www.example.")


def test_loading_the_snapshot_opens_no_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    bundled_suffixes.cache_clear()

    def refuse(*args: object, **kwargs: object) -> socket.socket:
        raise AssertionError("the public suffix list must never be fetched")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert bundled_suffixes().size > 5000
    assert bundled_suffixes() is bundled_suffixes()  # loaded once per process


def test_the_classifier_names_the_site_from_the_rules_it_was_given() -> None:
    classifier = make_classifier({"gambling": ["bet.co.uk"]})
    assert classifier.suffixes is bundled_suffixes()
    verdict = classifier.classify(Query(ipaddress.ip_address("10.0.0.1"), "www.bet.co.uk", datetime.now(UTC)))
    assert verdict.blocked and verdict.site == "bet.co.uk"
