"""A small, self-contained configuration with real list files in a temp directory."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFIG = """
data_dir: data
lists:
  sources_file: sources.yaml
  watch_interval: 0.2
policy:
  groups:
    pupils:
      networks: [10.0.0.0/8]
    staff:
      networks: [10.9.0.0/16]
      categories: {social: allow}
"""

SOURCES = """
sources:
  - {id: test/gambling, category: gambling, path: gambling.hosts, format: hosts, licence: MIT}
  - {id: test/social, category: social, path: social.txt}
  - {id: provider/iwf, category: illegal, path: iwf.urls, format: urls}
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "filterproxy.yaml").write_text(CONFIG)
    (tmp_path / "sources.yaml").write_text(SOURCES)
    (tmp_path / "gambling.hosts").write_text("# header\n0.0.0.0 bet.example\n0.0.0.0 casino.example # x\n")
    (tmp_path / "social.txt").write_text("facebook.com\ninstagram.com\n")
    (tmp_path / "iwf.urls").write_text("abuse.example\nhosting.example/bad/\n")
    return tmp_path
