"""Configuration: the shipped default loads, errors name file and field, env overrides apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from filterproxy.cli import main
from filterproxy.config.loader import DEFAULT_CONFIG, load_config
from filterproxy.errors import ConfigError
from filterproxy.model import POLICY_CATEGORIES, Action


def test_shipped_default_blocks_the_six_policy_categories_for_everyone() -> None:
    config = load_config(DEFAULT_CONFIG, env={})
    default = config.policy.groups[config.policy.default_group]
    for category in POLICY_CATEGORIES:
        assert default.categories[category].action is Action.BLOCK
    assert config.dns.listen.startswith("127.0.0.1:")
    assert config.lists.sources_file is not None and config.lists.sources_file.is_file()
    assert config.data_dir == (DEFAULT_CONFIG.parent / ".." / "var").resolve()


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("dns:\n  listen: nowhere\n", "dns.listen"),
        ("policy:\n  groups:\n    pupils:\n      categories:\n        adult: sometimes\n", "policy.groups.pupils"),
        ("policy:\n  groups:\n    pupils:\n      networks: [10.0.0.0/33]\n", "networks"),
        ("dns:\n  listne: 127.0.0.1:53\n", "dns.listne"),
        ("block:\n  ttl: -1\n", "block.ttl"),
        ("dns: [1, 2\n", "not valid YAML"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("policy:\n  groups:\n    pupils:\n      categories:\n        illegal: allow\n", "illegal"),
    ],
)
def test_bad_config_names_file_and_field(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_environment_overrides_and_data_dir(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("dns:\n  listen: 127.0.0.1:5300\n")
    env = {"FILTERPROXY__DNS__LISTEN": "127.0.0.1:5399", "FILTERPROXY_DATA_DIR": str(tmp_path / "d"),
           "FILTERPROXY__BLOCK__TTL": "30"}
    config = load_config(path, env=env)
    assert config.dns.listen == "127.0.0.1:5399"
    assert config.block.ttl == 30
    assert config.data_dir == tmp_path / "d"
    assert config.local_dir == tmp_path / "d" / "local"  # local lists move with the data directory


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config(tmp_path / "nope.yaml", env={})


def test_config_check_prints_effective_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(DEFAULT_CONFIG), "config", "check"]) == 0
    out = capsys.readouterr().out
    assert "default_group: pupils" in out and "listen: 127.0.0.1:5353" in out


def test_config_check_fails_with_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("metrics:\n  listen: 127.0.0.1:99999\n")
    assert main(["--config", str(path), "config", "check"]) == 1
    assert "metrics.listen" in capsys.readouterr().err
