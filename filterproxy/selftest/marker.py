"""Telling self-test probes from pupils' traffic: an HMAC token under a per-installation key.

A probe carries ``<8-byte Unix time><16 bytes of HMAC-SHA256(key, time | name)>``: in DNS as
the EDNS option :data:`DNS_OPTION` (RFC 6891 local/experimental range), over HTTP as the
:data:`HTTP_HEADER` header (hex). The key is 32 random bytes in ``<data_dir>/selftest/probe.key``
(mode 0600, made by the first self-test run; the service reads it), so only someone who can
read the service's data directory can mark a query as a probe.

Why a token and not a reserved name or a source address: the educational probes ask real names
(``www.bbc.co.uk``), so a name cannot carry the mark; the source address of a probe is whatever
address of the host the kernel picks (the resolver may listen on a LAN address), and a reserved
label alone is something any pupil can type. The token binds the name (it cannot be moved to
another query) and the time (it expires after :data:`WINDOW` seconds), and probes only ever go
over the host's own loopback delivery, where no other user can read them. A recognised probe is
still filtered exactly like any other query; it is only kept out of incidents, alerts, digests
and the block counters the review charts. See ``docs/selftest.md``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import time
from pathlib import Path

log = logging.getLogger(__name__)

DNS_OPTION = 65431  # EDNS option code, from the local/experimental range 65001-65534
HTTP_HEADER = "X-Filterproxy-Probe"
KEY_FILE = Path("selftest") / "probe.key"
KEY_BYTES = 32
WINDOW = 300  # seconds a token stays valid either side of its time (clock skew, slow runs)
_MAC_BYTES = 16
TOKEN_BYTES = 8 + _MAC_BYTES


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def load_or_create_key(data_dir: Path) -> bytes:
    """The installation's probe key, made (0600, atomically) if there is none yet; raises OSError."""
    path = key_path(data_dir)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(KEY_BYTES))
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):  # another process made one meanwhile: theirs wins
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) < 16:
        raise OSError(f"{path}: probe key too short ({len(key)} bytes)")
    return key


def normal(name: str) -> bytes:
    """The form of a host name the token binds: lower case, no trailing dot, ASCII."""
    return name.strip().rstrip(".").lower().encode("ascii", "replace")


def make_token(key: bytes, name: str, now: float | None = None) -> bytes:
    stamp = int(time.time() if now is None else now).to_bytes(8, "big")
    return stamp + _mac(key, stamp, name)


def check_token(key: bytes, name: str, token: bytes, now: float | None = None) -> bool:
    if len(token) != TOKEN_BYTES:
        return False
    stamp = token[:8]
    at = int.from_bytes(stamp, "big")
    if abs((time.time() if now is None else now) - at) > WINDOW:
        return False
    return hmac.compare_digest(token[8:], _mac(key, stamp, name))


def _mac(key: bytes, stamp: bytes, name: str) -> bytes:
    return hmac.new(key, b"filterproxy-probe\x00" + stamp + b"\x00" + normal(name), hashlib.sha256).digest()[
        :_MAC_BYTES
    ]


class ProbeMarker:
    """The service's side: is this query a probe? Reads the key the self-test made, and again when it changes.

    The service never makes the key itself (no file appears in a data directory no self-test
    uses); until one exists no query is a probe.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = key_path(data_dir)
        self._stamp: tuple[int, int] | None = None
        self._key: bytes | None = None
        self._reload()

    def dns(self, name: str, token: bytes | None) -> bool:
        return token is not None and self._check(name, token)

    def http(self, host: str, header: str | None) -> bool:
        if not header:
            return False
        try:
            token = bytes.fromhex(header.strip())
        except ValueError:
            return False
        return self._check(host, token)

    def _check(self, name: str, token: bytes) -> bool:
        self._reload()  # one stat, only for queries that carry a token: a key made or replaced meanwhile
        return self._key is not None and check_token(self._key, name, token)

    def _reload(self) -> None:
        """Read the key if the file changed since it was last read (a removed file keeps the old key)."""
        stamp = self._stat()
        if stamp is None or stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            self._key = _read(self.path)
        except OSError as exc:  # said once per change of the file
            log.warning("self-test probe key unreadable (%s): probes are recorded as ordinary traffic", exc)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ino
