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


def _error(path: Path, env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env)
    return str(info.value)


@pytest.mark.parametrize("where", ["file", "env"])
def test_a_cidr_with_host_bits_says_so_once_with_the_fix(tmp_path: Path, where: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("policy:\n  groups:\n    staff:\n      networks: [10.20.0.1/16]\n" if where == "file" else "{}\n")
    env = {"FILTERPROXY__POLICY__GROUPS__STAFF__NETWORKS": "[10.20.0.1/16]"} if where == "env" else {}
    text = _error(path, env)
    assert text.count("10.20.0.1/16 has host bits set; did you mean 10.20.0.0/16?") == 1
    assert "lax-or-strict" not in text and "validator" not in text and "1 problem(s)" in text
    bad = tmp_path / "bad.yaml"
    bad.write_text("gateway:\n  doh_addresses: [192.0.2.0/33]\n")
    assert "'192.0.2.0/33' is not an IP network" in _error(bad, {})


def test_an_environment_typo_names_the_variable_and_the_nearest_one(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("dns:\n  listen: 127.0.0.1:5300\n")
    text = _error(path, {"FILTERPROXY__DNS__LISTN": "0.0.0.0:53"})
    assert text == ("environment FILTERPROXY__DNS__LISTN: dns.listn is not a setting; "
                    "did you mean FILTERPROXY__DNS__LISTEN?")
    assert str(path) not in text
    assert "FILTERPROXY__DNS__LISTEN?" in _error(path, {"FILTERPROXY__DSN__LISTEN": "x"})
    # a bad value from the environment is blamed on the variable too, not on the file
    text = _error(path, {"FILTERPROXY__BLOCK__TTL": "-5"})
    assert "environment FILTERPROXY__BLOCK__TTL: block.ttl:" in text and f"{path}:" not in text


def test_unknown_keys_in_the_file_suggest_the_nearest_valid_one(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("dns:\n  listne: 127.0.0.1:53\npolicy:\n  groups:\n    pupils:\n      safesarch: true\n"
                    "lists:\n  zzzz: 1\n")
    text = _error(path, {})
    assert f"{path}: dns.listne: no such setting; did you mean 'listen'?" in text
    assert "policy.groups.pupils.safesarch: no such setting; did you mean 'safesearch'?" in text
    assert "lists.zzzz: no such setting; valid keys: " in text and "sources_file" in text


def test_list_valued_overrides_take_commas_as_well_as_json(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("policy:\n  groups:\n    pupils: {}\n    staff: {}\n")
    env = {"FILTERPROXY__GATEWAY__LAN_INTERFACES": "eth1, eth2",
           "FILTERPROXY__POLICY__GROUPS__STAFF__NETWORKS": "10.20.0.0/16,10.21.0.0/16",
           "FILTERPROXY__DNS__UPSTREAMS": '["127.0.0.1:5301"]',
           "FILTERPROXY__SELFTEST__ALLOWED__STAFF": "social,circumvention",
           "FILTERPROXY__SELFTEST__EDUCATIONAL": ""}
    config = load_config(path, env=env)
    assert config.gateway.lan_interfaces == ["eth1", "eth2"]
    assert [str(n) for n in config.policy.groups["staff"].networks] == ["10.20.0.0/16", "10.21.0.0/16"]
    assert config.dns.upstreams == ["127.0.0.1:5301"]
    assert [c.value for c in config.selftest.allowed["staff"]] == ["social", "circumvention"]
    assert config.selftest.educational == []
    assert load_config(path, env={"FILTERPROXY__GATEWAY__LAN_INTERFACES": "eth1"}).gateway.lan_interfaces == ["eth1"]
