"""The probe token: bound to its name and time, unforgeable without the installation's key."""

from __future__ import annotations

import stat
import time
from pathlib import Path

from filterproxy.selftest.marker import ProbeMarker, check_token, key_path, load_or_create_key, make_token


def test_key_is_made_once_private_and_shared(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    assert len(key) == 32 and load_or_create_key(tmp_path) == key
    assert stat.S_IMODE(key_path(tmp_path).stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path / "other") != key


def test_token_binds_name_time_and_key(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    now = time.time()
    token = make_token(key, "Adult.Filterproxy-Selftest.Example.", now)
    assert check_token(key, "adult.filterproxy-selftest.example", token, now + 10)
    assert not check_token(key, "gambling.filterproxy-selftest.example", token, now)
    assert not check_token(key, "adult.filterproxy-selftest.example", token, now + 301)
    assert not check_token(b"k" * 32, "adult.filterproxy-selftest.example", token, now)
    assert not check_token(key, "adult.filterproxy-selftest.example", token[:-1], now)


def test_marker_follows_a_new_key_and_rejects_garbage(tmp_path: Path) -> None:
    marker = ProbeMarker(tmp_path)
    assert not key_path(tmp_path).exists()  # the service makes no key of its own
    assert not marker.dns("www.bbc.co.uk", make_token(b"k" * 32, "www.bbc.co.uk"))
    old = load_or_create_key(tmp_path)
    assert marker.dns("www.bbc.co.uk", make_token(old, "www.bbc.co.uk"))
    key_path(tmp_path).unlink()
    key = load_or_create_key(tmp_path)  # a new key made after the service started
    assert key != old and not marker.dns("www.bbc.co.uk", make_token(old, "www.bbc.co.uk"))
    assert marker.dns("www.bbc.co.uk", make_token(key, "www.bbc.co.uk"))
    assert marker.http("www.bbc.co.uk", make_token(key, "www.bbc.co.uk").hex())
    assert not marker.http("www.bbc.co.uk", "not hex")
    assert not marker.dns("www.bbc.co.uk", None)
    assert not marker.http("www.bbc.co.uk", None)


def test_an_unreadable_data_dir_means_no_probes(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    marker = ProbeMarker(blocker)  # data_dir is a file: no key can be made
    assert not marker.dns("x.example", b"\x00" * 24)
