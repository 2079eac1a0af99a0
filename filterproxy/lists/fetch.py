"""One conditional HTTP(S) download into a temporary file beside its destination.

The seam between ``lists update`` and the network: ETag / If-Modified-Since request headers,
the body streamed to disk with its SHA-256, every foreign error (``urllib``, ``http.client``,
sockets) translated into :class:`ListFetchError` here and nowhere else.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from filterproxy import __version__
from filterproxy.errors import ListFetchError
from filterproxy.lists.progress import ProgressFn

USER_AGENT = f"filterproxy/{__version__} (lists update)"
CHUNK = 1 << 16


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but only to http(s): urllib alone would also follow one to ftp://."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not newurl.lower().startswith(("http://", "https://")):
            raise urllib.error.HTTPError(newurl, code, f"redirect to a non-HTTP URL {newurl}", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


@dataclass(frozen=True, slots=True)
class Validators:
    """What the server said identifies the copy we hold (sent back to ask 'changed since?')."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Download:
    """A completed download: ``path`` is a temporary file the caller renames or deletes."""

    path: Path
    size: int
    sha256: str
    validators: Validators


def fetch(url: str, dest: Path, held: Validators | None, *, timeout: float, max_bytes: int,
          progress: ProgressFn | None = None) -> Download | None:
    """Download ``url`` next to ``dest``; None when the server says our copy is current (304)."""
    if not url.startswith(("http://", "https://")):
        raise ListFetchError(f"{url}: only http:// and https:// URLs can be downloaded")
    request = urllib.request.Request(url, headers=_headers(held))
    try:
        response = _OPENER.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 304 and held is not None:
            return None
        raise ListFetchError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ListFetchError(f"{url}: cannot download: {reason}") from exc
    with response:
        validators = Validators(response.headers.get("ETag"), response.headers.get("Last-Modified"))
        expected = response.headers.get("Content-Length")
        total = int(expected) if expected is not None and expected.isdigit() else None

        def report(done: int) -> None:
            if progress is not None:
                progress(done, total)

        path, size, digest = _save(response, dest, url, max_bytes, report)
    if expected is not None and expected.isdigit() and int(expected) != size:
        path.unlink(missing_ok=True)
        raise ListFetchError(f"{url}: truncated download ({size} of {expected} bytes)")
    return Download(path, size, digest, validators)


def _headers(held: Validators | None) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT}
    if held is not None and held.etag:
        headers["If-None-Match"] = held.etag
    if held is not None and held.last_modified:
        headers["If-Modified-Since"] = held.last_modified
    return headers


def _save(response: http.client.HTTPResponse, dest: Path, url: str, max_bytes: int,
          progress: Callable[[int], object]) -> tuple[Path, int, str]:
    """Stream the body to a temporary file (same directory, so the final rename is atomic)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name keeps the destination's suffix so format detection sees the same name.
    handle, name = tempfile.mkstemp(dir=dest.parent, prefix=".fetch-", suffix=f"-{dest.name}")
    path, size, digest = Path(name), 0, hashlib.sha256()
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := response.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ListFetchError(f"{url}: larger than the {max_bytes} byte limit")
                digest.update(chunk)
                out.write(chunk)
                progress(size)
            out.flush()
            os.fsync(out.fileno())
    except ListFetchError:
        path.unlink(missing_ok=True)
        raise
    except (OSError, http.client.HTTPException) as exc:
        path.unlink(missing_ok=True)
        what = "truncated download" if isinstance(exc, http.client.IncompleteRead) else "download failed"
        raise ListFetchError(f"{url}: {what}: {exc!r}") from exc
    return path, size, digest.hexdigest()
