"""The compiled index on disk: written once after a build, mapped back in without parsing.

Layout (little-endian)::

    b"FPIDX\\x00"           magic
    u16                     format version (:data:`FORMAT_VERSION`)
    u64                     header length
    header                  JSON: combos, sources, ips, networks, table offsets, fingerprint
    padding to 8 bytes
    arrays                  key (int64) and value (uint32) arrays of each table, 8-byte aligned

Loading maps the file read-only and casts ``memoryview`` slices over it: start-up costs the
JSON header only, and pages are shared with the page cache (a reload maps the new file beside
the old one; the old mapping is released when the last reader drops the old index).

There is one format version, :data:`FORMAT_VERSION`: it is written into every file and into the
build fingerprint (:func:`filterproxy.lists.build.fingerprint`), so a file of another version is
never looked for, and one found anyway is refused by :func:`read_index` with both versions named
(the loader then rebuilds it). Bump it whenever the layout or the key function changes.
"""

from __future__ import annotations

import ipaddress
import json
import mmap
import struct
import sys
from pathlib import Path
from typing import Any

from filterproxy.classify.index import Combo, Index, SourceInfo
from filterproxy.classify.table import HashTable
from filterproxy.errors import IndexFileError
from filterproxy.files import write_atomic
from filterproxy.model import Category

FORMAT_VERSION = 3  # 2: keys modulo table.PRIME; 3: one version for the file and the build fingerprint
MAGIC = b"FPIDX\x00"
_PREAMBLE = MAGIC + struct.pack("<H", FORMAT_VERSION)
_TABLES = ("domains", "urls", "url_hosts", "exceptions", "ips")


def write_index(index: Index, path: Path) -> None:
    """Write ``index`` to ``path`` atomically (temporary file, fsync, rename)."""
    if sys.byteorder != "little":
        raise IndexFileError("compiled indexes are little-endian only")
    blobs: list[bytes | memoryview] = []
    tables: dict[str, dict[str, int]] = {}
    offset = 0
    for name in _TABLES:
        table: HashTable | None = getattr(index, name)
        if table is None:
            continue
        keys, values = memoryview(table.keys).cast("B"), memoryview(table.values).cast("B")  # type: ignore[arg-type]
        pad = (-len(values)) % 8
        tables[name] = {"offset": offset, "size": table.size}
        blobs += [keys, values, b"\0" * pad]
        offset += len(keys) + len(values) + pad
    header = json.dumps(_header(index, tables)).encode()
    header += b" " * ((-(len(_PREAMBLE) + 8 + len(header))) % 8)
    write_atomic(path, [_PREAMBLE + struct.pack("<Q", len(header)) + header, *blobs])


def read_index(path: Path) -> Index:
    """Map a compiled index; raise :class:`IndexFileError` if it is missing, truncated or foreign."""
    try:
        with path.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        raise IndexFileError(f"{path}: cannot open compiled index: {exc}") from exc
    try:
        _check_preamble(path, mapped)
    except IndexFileError:
        mapped.close()
        raise
    (length,) = struct.unpack_from("<Q", mapped, len(_PREAMBLE))
    base = len(_PREAMBLE) + 8
    try:
        header = json.loads(mapped[base : base + length])
        return _index(header, memoryview(mapped)[base + length :])
    except (ValueError, KeyError, TypeError) as exc:
        raise IndexFileError(f"{path}: corrupt compiled index: {exc}") from exc


def _check_preamble(path: Path, mapped: mmap.mmap) -> None:
    if mapped[: len(MAGIC)] != MAGIC or len(mapped) < len(_PREAMBLE) + 8:
        raise IndexFileError(f"{path}: not a compiled index")
    (version,) = struct.unpack_from("<H", mapped, len(MAGIC))
    if version != FORMAT_VERSION:
        raise IndexFileError(f"{path}: compiled index format version {version}, this filterproxy reads "
                             f"version {FORMAT_VERSION} only (it is rebuilt from the lists)")


def _header(index: Index, tables: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {
        "fingerprint": index.fingerprint,
        "built_at": index.built_at,
        "tables": tables,
        "combos": [[[c.value, s] for c, s in combo.sources.items()] for combo in index.combos],
        "sources": [_source_json(s) for s in index.sources],
        "networks": [[str(net), combo] for net, combo in index.networks],
        "tlds": index.tlds,
    }


def _source_json(source: SourceInfo) -> dict[str, Any]:
    fields = {name: getattr(source, name) for name in SourceInfo.__slots__}
    fields["category"] = source.category.value
    fields["errors"] = list(source.errors)
    return fields


def _index(header: dict[str, Any], data: memoryview) -> Index:
    tables: dict[str, HashTable | None] = dict.fromkeys(_TABLES)
    for name, where in header["tables"].items():
        start, size = where["offset"], where["size"]
        keys = data[start : start + 8 * size]
        values = data[start + 8 * size : start + 12 * size]
        if len(values) != 4 * size:
            raise ValueError(f"table {name} is truncated")
        tables[name] = HashTable(keys.cast("q"), values.cast("I"))
    combos = tuple(Combo({Category(c): s for c, s in pairs}) for pairs in header["combos"])
    sources = tuple(
        SourceInfo(**{**s, "category": Category(s["category"]), "errors": tuple(s["errors"])})
        for s in header["sources"]
    )
    return Index(
        combos=combos,
        domains=tables["domains"],
        urls=tables["urls"],
        url_hosts=tables["url_hosts"],
        exceptions=tables["exceptions"],
        ips=tables["ips"],
        networks=tuple((ipaddress.ip_network(net), combo) for net, combo in header["networks"]),
        tlds=dict(header["tlds"]),
        sources=sources,
        built_at=header["built_at"],
        fingerprint=header["fingerprint"],
    )
