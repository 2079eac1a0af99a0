"""RADIUS accounting: the packet codec, the refusals (each counted), sessions, and radclient end to end."""

from __future__ import annotations

import ipaddress
import json
import struct
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from filterproxy.identity import radius
from filterproxy.identity.listener import RadiusListener
from filterproxy.identity.metrics import IdentityMetrics
from filterproxy.identity.model import Identity, IdentitySource
from filterproxy.identity.radius import PacketError
from filterproxy.identity.sessions import Session, SessionMap
from filterproxy.identity.settings import RadiusSettings
from tests.identity.radclient import radclient, start, stop
from tests.support import Loop

SECRET = b"s3cret"
PUPIL_IP = ipaddress.ip_address("10.1.2.3")


def acct(status: int, user: str = "p.smith", address: str = "10.1.2.3", *, ident: int = 1,
         secret: bytes = SECRET, extra: list[tuple[int, bytes]] | None = None) -> bytes:
    attributes = [(radius.ACCT_STATUS_TYPE, struct.pack("!I", status)), (radius.USER_NAME, user.encode()),
                  (radius.FRAMED_IP_ADDRESS, ipaddress.IPv4Address(address).packed), *(extra or [])]
    return radius.request(attributes, secret, ident)


def listener(tmp_path: Path, **settings: object) -> tuple[RadiusListener, CollectorRegistry]:
    registry = CollectorRegistry()
    config = RadiusSettings.model_validate({"listen": "127.0.0.1:0", "clients": [
        {"address": "127.0.0.0/8", "secret": SECRET.decode()}, {"address": "192.0.2.10/32", "secret": "other"}],
        **settings})
    return RadiusListener(config, SessionMap(config.max_sessions), IdentityMetrics(registry),
                          tmp_path / "sessions.json"), registry


def count(registry: CollectorRegistry, outcome: str) -> float:
    return registry.get_sample_value("filterproxy_identity_radius_packets_total", {"outcome": outcome}) or 0.0


def test_parse_reads_the_identifying_attributes() -> None:
    data = acct(1, extra=[(radius.CLASS, b"pupil"), (radius.FILTER_ID, b"year9"),
                          (radius.ACCT_INTERIM_INTERVAL, struct.pack("!I", 600))])
    packet = radius.parse(data)
    assert (packet.status, packet.user, packet.addresses) == (1, "p.smith", (PUPIL_IP,))
    assert packet.classes == ("pupil", "year9") and packet.interim_interval == 600
    assert radius.verify(data, SECRET) and not radius.verify(data, b"wrong")


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x04\x01\x00", "shorter than a RADIUS header"),
        (b"\x01\x01\x00\x14" + bytes(16), "not Accounting-Request"),  # an Access-Request
        (b"\x04\x01\x00\x40" + bytes(16), "does not fit"),  # length field past the datagram
        (b"\x04\x01\x00\x17" + bytes(16) + b"\x01\x05a", "past the packet end"),
        (b"\x04\x01\x00\x18" + bytes(16) + b"\x08\x04ab", "not 4 octets"),  # Framed-IP-Address of 2 octets
    ],
)
def test_malformed_packets_say_what_is_wrong(data: bytes, why: str) -> None:
    with pytest.raises(PacketError, match=why):
        radius.parse(data)


def test_refusals_are_counted_and_get_no_answer(tmp_path: Path) -> None:
    lst, registry = listener(tmp_path)
    good = acct(1, ident=7)
    assert lst.handle(good, "192.0.2.99") is None  # not an allowed NAS
    assert lst.handle(acct(1, secret=b"wrong"), "127.0.0.1") is None  # bad secret
    forged = bytearray(good)
    forged[-1] ^= 1  # the address changed in flight: the authenticator no longer matches
    assert lst.handle(bytes(forged), "127.0.0.1") is None
    assert lst.handle(good[:10], "127.0.0.1") is None
    assert lst.sessions.identity(PUPIL_IP) is None
    answer = lst.handle(good, "127.0.0.1")
    assert answer is not None and answer[0] == radius.ACCOUNTING_RESPONSE and answer[1] == 7
    assert lst.handle(good, "127.0.0.1") is None  # the same packet again: a replay
    assert {o: count(registry, o) for o in ("unknown_client", "bad_authenticator", "malformed", "replay", "start")} \
        == {"unknown_client": 1, "bad_authenticator": 2, "malformed": 1, "replay": 1, "start": 1}


def test_start_interim_stop_and_a_late_stop_of_someone_else(tmp_path: Path) -> None:
    lst, registry = listener(tmp_path)
    assert lst.handle(acct(1, extra=[(radius.CLASS, b"pupil")], ident=1), "127.0.0.1")
    who = lst.sessions.identity(PUPIL_IP)
    assert who is not None and (who.user, who.directory, who.source) == ("p.smith", ("pupil",), IdentitySource.RADIUS)
    assert lst.handle(acct(3, extra=[(radius.CLASS, b"pupil")], ident=2), "127.0.0.1")  # interim keeps `since`
    assert lst.sessions.identity(PUPIL_IP).since == who.since  # type: ignore[union-attr]
    assert lst.handle(acct(1, "t.jones", ident=3), "127.0.0.1")  # the address moved to another person
    assert lst.handle(acct(2, "p.smith", ident=4), "127.0.0.1")  # p.smith's late Stop must not end t.jones's
    assert lst.sessions.identity(PUPIL_IP).user == "t.jones"  # type: ignore[union-attr]
    assert lst.handle(acct(2, "t.jones", ident=5), "127.0.0.1")
    assert lst.sessions.identity(PUPIL_IP) is None
    assert count(registry, "stop") == 2 and count(registry, "interim") == 1


def test_interim_interval_sets_expiry(tmp_path: Path) -> None:
    now = [1000.0]
    lst, _ = listener(tmp_path, max_age=3600)
    lst.sessions.clock = lambda: now[0]
    import filterproxy.identity.listener as module

    real = module.time.time
    module.time.time = lambda: now[0]  # type: ignore[assignment]
    try:
        lst.handle(acct(1, extra=[(radius.ACCT_INTERIM_INTERVAL, struct.pack("!I", 60))]), "127.0.0.1")
    finally:
        module.time.time = real  # type: ignore[assignment]
    now[0] += 179
    assert lst.sessions.identity(PUPIL_IP) is not None
    now[0] += 2  # three missed interims: gone
    assert lst.sessions.identity(PUPIL_IP) is None


def test_sessions_are_bounded_and_persisted(tmp_path: Path) -> None:
    sessions = SessionMap(limit=2)
    heard: list[str] = []
    sessions.listeners.append(lambda a: heard.append(str(a)))
    far = 4e9
    for n in range(3):
        who = Identity(f"u{n}", ("pupil",), IdentitySource.RADIUS, 1.0)
        sessions.start(ipaddress.ip_address(f"10.0.0.{n}"), Session(who, far, "127.0.0.1", None))
    assert len(sessions) == 2 and sessions.identity(ipaddress.ip_address("10.0.0.0")) is None  # oldest went
    assert heard == ["10.0.0.0", "10.0.0.1", "10.0.0.0", "10.0.0.2"]
    path = tmp_path / "identity" / "sessions.json"
    sessions.save(path)
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"format": 1, "sessions": 2} and len(lines) == 3
    lines.append(json.dumps({"address": "10.9.9.9", "user": "old", "directory": [], "since": 1, "expires": 2,
                             "nas": "x"}))  # expired: not restored
    lines += [json.dumps({"address": "not-an-ip"}), "{truncated"]
    path.write_text("\n".join(lines))
    restored = SessionMap(limit=10)
    assert restored.load(path) == 2
    assert restored.identity(ipaddress.ip_address("10.0.0.2")).user == "u2"  # type: ignore[union-attr]
    assert SessionMap(10).load(tmp_path / "missing.json") == 0


def test_radclient_start_and_stop(tmp_path: Path) -> None:
    lst, registry = listener(tmp_path)
    loop = Loop()
    try:
        loop.run(lst.start())
        ok, out = radclient(lst.port, "s3cret", start("p.smith", "10.1.2.3", Class="0x7075706c"))  # Class "pupl"
        assert ok, out
        assert loop.run(_identity(lst, PUPIL_IP)) == ("p.smith", ("pupl",))
        ok, out = radclient(lst.port, "wrong-secret", stop("p.smith", "10.1.2.3"))
        assert not ok  # refused: no Accounting-Response
        assert loop.run(_identity(lst, PUPIL_IP)) == ("p.smith", ("pupl",))
        ok, out = radclient(lst.port, "s3cret", stop("p.smith", "10.1.2.3"))
        assert ok, out
        assert loop.run(_identity(lst, PUPIL_IP)) is None
        ok, _ = radclient(lst.port, "s3cret", start("t.jones", "10.1.2.4"))
        assert ok
        loop.run(lst.stop())  # saves
        again, _ = listener(tmp_path)
        loop.run(again.start())  # a restart restores the live session
        assert loop.run(_identity(again, ipaddress.ip_address("10.1.2.4"))) == ("t.jones", ())
        loop.run(again.stop())
    finally:
        loop.close()
    assert count(registry, "bad_authenticator") == 1 and count(registry, "start") == 2


async def _identity(lst: RadiusListener, address: ipaddress.IPv4Address) -> tuple[str, tuple[str, ...]] | None:
    who = lst.sessions.identity(address)
    return (who.user, who.directory) if who is not None else None


def test_accounting_on_ends_the_sessions_of_that_nas_only(tmp_path: Path) -> None:
    lst, registry = listener(tmp_path)
    lst.handle(acct(1, "a", "10.0.0.1", ident=1), "127.0.0.1")
    lst.handle(acct(1, "b", "10.0.0.2", ident=1, secret=b"other"), "192.0.2.10")
    on = radius.request([(radius.ACCT_STATUS_TYPE, struct.pack("!I", 7))], SECRET, 2)  # Accounting-On: NAS restarted
    assert lst.handle(on, "127.0.0.1") is not None
    assert lst.sessions.identity(ipaddress.ip_address("10.0.0.1")) is None
    assert lst.sessions.identity(ipaddress.ip_address("10.0.0.2")).user == "b"  # type: ignore[union-attr]
    assert count(registry, "other") == 1


def test_ipv6_and_a_response_radclient_would_accept() -> None:
    data = radius.request([(radius.ACCT_STATUS_TYPE, struct.pack("!I", 1)), (radius.USER_NAME, b"p.smith"),
                           (radius.FRAMED_IPV6_ADDRESS, ipaddress.IPv6Address("2001:db8::5").packed)], SECRET, 9)
    packet = radius.parse(data)
    assert packet.addresses == (ipaddress.IPv6Address("2001:db8::5"),)
    answer = radius.response(packet, SECRET)
    import hashlib

    assert answer[4:] == hashlib.md5(answer[:4] + packet.authenticator + SECRET).digest()
