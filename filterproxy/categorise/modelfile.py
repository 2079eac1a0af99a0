"""The versioned model file: one gzip stream (mtime 0, so the same model gives the same bytes).

Layout: ``FPHM1\\n``, an 8-byte big-endian header length, the header (JSON: classes, vocabulary size
and the manifest), the vocabulary (UTF-8, one feature per line), float16 weights, float32 bias.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from filterproxy.categorise.scorer import HostModel
from filterproxy.errors import ModelFileError
from filterproxy.files import write_atomic

MAGIC = b"FPHM1\n"
SHIPPED = "hostnames.fphm"


def shipped_path() -> Path:
    """The model shipped inside the package (trained from the declared public lists)."""
    return Path(str(resources.files("filterproxy.categorise") / "data" / SHIPPED))


def encode(classes: tuple[str, ...], vocabulary: tuple[str, ...], weights: np.ndarray[Any, Any],
           bias: np.ndarray[Any, Any], manifest: dict[str, Any]) -> bytes:
    header = json.dumps({"classes": list(classes), "features": len(vocabulary), "manifest": manifest},
                        sort_keys=True).encode()
    raw = io.BytesIO()
    raw.write(MAGIC + len(header).to_bytes(8, "big") + header)
    vocab = "\n".join(vocabulary).encode()
    raw.write(len(vocab).to_bytes(8, "big") + vocab)
    raw.write(np.ascontiguousarray(weights, dtype="<f2").tobytes())
    raw.write(np.ascontiguousarray(bias, dtype="<f4").tobytes())
    return gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)


def decode(data: bytes, where: str = "model") -> HostModel:
    try:
        raw = gzip.decompress(data)
        if not raw.startswith(MAGIC):
            raise ValueError("not a filterproxy hostname model")
        at = len(MAGIC)
        size = int.from_bytes(raw[at : at + 8], "big")
        header = json.loads(raw[at + 8 : at + 8 + size])
        at += 8 + size
        vsize = int.from_bytes(raw[at : at + 8], "big")
        vocabulary = tuple(raw[at + 8 : at + 8 + vsize].decode().split("\n")) if vsize else ()
        at += 8 + vsize
        classes = tuple(header["classes"])
        count = len(vocabulary) * len(classes)
        weights = np.frombuffer(raw, dtype="<f2", count=count, offset=at).astype(np.float32)
        bias = np.frombuffer(raw, dtype="<f4", count=len(classes), offset=at + 2 * count).astype(np.float32)
        return HostModel(classes, vocabulary, weights.reshape(len(vocabulary), len(classes)), bias,
                         dict(header["manifest"]))
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(f"{where}: unreadable model file: {exc}") from exc


def read_model(path: Path) -> HostModel:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"{path}: {exc.strerror or exc}") from exc
    return decode(data, str(path))


def write_model(path: Path, data: bytes, manifest: dict[str, Any]) -> str:
    """Write the model and ``<path>.manifest.json`` beside it; returns the model's SHA-256."""
    write_atomic(path, data)
    digest = hashlib.sha256(data).hexdigest()
    text = json.dumps({**manifest, "sha256": digest, "file": path.name}, indent=2, sort_keys=True) + "\n"
    write_atomic(path.with_name(path.name + ".manifest.json"), text.encode())
    return digest
