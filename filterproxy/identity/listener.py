"""The RADIUS accounting listener: a datagram protocol on the service loop.

Each packet costs two dictionary lookups and one MD5 over a few hundred octets (microseconds),
so it shares the loop with the resolver without stalling it; saving the sessions file runs in
a worker thread. Refused packets (unknown NAS, bad authenticator, replay, malformed) get no
answer, are counted by outcome, and are logged at most once a minute per outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from pathlib import Path

from filterproxy.bounded import BoundedDict
from filterproxy.config.types import split_host_port
from filterproxy.errors import IdentityError
from filterproxy.identity import radius
from filterproxy.identity.metrics import IdentityMetrics
from filterproxy.identity.model import Identity, IdentitySource
from filterproxy.identity.radius import Accounting, PacketError, StatusType
from filterproxy.identity.sessions import Session, SessionMap, save
from filterproxy.identity.settings import RadiusSettings

log = logging.getLogger(__name__)
SAVE_SECONDS = 30.0
SEEN_LIMIT = 65536
_LOG_EVERY = 60.0


class RadiusListener(asyncio.DatagramProtocol):
    """Accounting-Request in, Accounting-Response out; keeps :class:`SessionMap` current."""

    def __init__(self, settings: RadiusSettings, sessions: SessionMap, metrics: IdentityMetrics, path: Path) -> None:
        self.settings = settings
        self.sessions = sessions
        self.metrics = metrics
        self.path = path
        self.port = 0
        self._clients = [(c.address, c.secret.get_secret_value().encode("utf-8")) for c in settings.clients]
        # source address text -> its NAS secret (or None)
        self._secrets: BoundedDict[str, bytes | None] = BoundedDict(SEEN_LIMIT)
        self._seen: dict[tuple[str, int, bytes], float] = {}
        self._logged: dict[str, float] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.settings.listen is None:
            return
        kept = await asyncio.to_thread(self.sessions.load, self.path)
        self.metrics.sessions.set(kept)
        host, port = split_host_port(self.settings.listen)
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        except OSError as exc:
            raise IdentityError(f"identity.radius.listen {self.settings.listen}: cannot listen: {exc}") from exc
        self._transport = transport
        self.port = int(transport.get_extra_info("sockname")[1])
        self._task = asyncio.create_task(self._housekeeping(), name="filterproxy-radius")
        log.info("RADIUS accounting on %s port %s (%d sessions restored)", host, self.port, kept)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._transport is not None:
            self._transport.close()
            await self._save()
        self._task = self._transport = None

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        answer = self.handle(data, str(addr[0]))
        if answer is not None and self._transport is not None:
            self._transport.sendto(answer, addr)

    def handle(self, data: bytes, source: str) -> bytes | None:
        """The response to one datagram from ``source``, or None when it is refused."""
        secret = self._secret(source)
        if secret is None:
            return self._refuse("unknown_client", f"from {source}, which is not in identity.radius.clients")
        try:
            packet = radius.parse(data)
        except PacketError as exc:
            return self._refuse("malformed", f"from {source}: {exc}")
        if not radius.verify(data, secret):
            return self._refuse("bad_authenticator", f"from {source}: wrong shared secret or forged packet")
        if self._replayed(source, packet):
            return self._refuse("replay", f"from {source}: identifier {packet.identifier} seen again")
        self.metrics.radius[self._apply(source, packet)].inc()
        self.metrics.sessions.set(len(self.sessions))
        return radius.response(packet, secret)

    def _secret(self, source: str) -> bytes | None:
        if source in self._secrets:
            return self._secrets[source]
        found = self._secrets[source] = self._match(source)
        return found

    def _match(self, source: str) -> bytes | None:
        try:
            address = ipaddress.ip_address(source)
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        for network, secret in self._clients:
            if address.version == network.version and address in network:
                return secret
        return None

    def _replayed(self, source: str, packet: Accounting) -> bool:
        now = time.monotonic()
        seen = self._seen
        while seen:  # oldest first: drop what left the window
            first = next(iter(seen))
            if seen[first] > now - self.settings.replay_window and len(seen) < SEEN_LIMIT:
                break
            del seen[first]
        key = (source, packet.identifier, packet.authenticator)
        if key in seen:
            return True
        seen[key] = now
        return False

    def _apply(self, source: str, packet: Accounting) -> str:
        status = packet.status
        if status in (StatusType.ACCOUNTING_ON, StatusType.ACCOUNTING_OFF):
            self.sessions.stop_nas(source)
            return "other"
        if status not in (StatusType.START, StatusType.INTERIM_UPDATE, StatusType.STOP) or not packet.user:
            return "other"
        if status == StatusType.STOP:
            for address in packet.addresses:
                current = self.sessions.identity(address)
                if current is not None and current.user == packet.user:  # not a late Stop of an earlier person
                    self.sessions.stop(address)
            return "stop"
        now = time.time()
        interval = packet.interim_interval
        life = min(self.settings.max_age, 3.0 * interval) if interval else self.settings.max_age
        for address in packet.addresses:
            old = self.sessions.identity(address)
            since = old.since if old is not None and old.user == packet.user else now
            who = Identity(packet.user, packet.classes, IdentitySource.RADIUS, since)
            self.sessions.start(address, Session(who, now + life, source, packet.session_id))
        return "start" if status == StatusType.START else "interim"

    def _refuse(self, outcome: str, why: str) -> bytes | None:
        self.metrics.radius[outcome].inc()
        now = time.monotonic()
        if now - self._logged.get(outcome, -_LOG_EVERY) >= _LOG_EVERY:
            self._logged[outcome] = now
            log.warning("RADIUS accounting packet refused (%s) %s (logged once a minute)", outcome, why)
        return None

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(SAVE_SECONDS)
            if self.sessions.sweep():
                self.metrics.sessions.set(len(self.sessions))
            await self._save()

    async def _save(self) -> None:
        if not self.sessions.dirty:
            return
        self.sessions.dirty = False
        try:
            await asyncio.to_thread(save, self.path, self.sessions.snapshot())
        except OSError as exc:
            self.sessions.dirty = True
            log.error("identity: cannot save RADIUS sessions to %s: %s", self.path, exc)
