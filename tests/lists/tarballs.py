"""Tar archives built in memory, for the UT1 tarball tests."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping
from typing import Literal


def tar_bytes(files: Mapping[str, str | bytes], mode: Literal["w", "w:gz"] = "w:gz") -> bytes:
    """A tar archive (gzipped unless ``mode`` is ``"w"``) holding ``files`` (member name -> content)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
