"""The identity section: validation with clear errors, secrets masked in `config check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from filterproxy.cli import main
from filterproxy.config.loader import load_config
from filterproxy.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "filterproxy.yaml"
    path.write_text(text)
    return path


def test_config_check_masks_the_radius_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "identity:\n  radius:\n    listen: 127.0.0.1:1813\n"
                             "    clients: [{address: 10.0.0.2/32, secret: very-secret-value}]\n")
    assert main(["--config", str(config), "config", "check", "--json"]) == 0
    out = capsys.readouterr().out
    assert "very-secret-value" not in out and "**********" in out and "10.0.0.2/32" in out
    assert load_config(config).identity.radius.clients[0].secret.get_secret_value() == "very-secret-value"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("identity: {radius: {listen: 127.0.0.1:1813}}", "no clients may send"),
        ("identity: {radius: {clients: [{address: not-a-net, secret: x}]}}", "address"),
        ("identity: {proxy_auth: {enabled: true, source: ldap}}", "proxy_auth.ldap is not configured"),
        ("identity: {proxy_auth: {enabled: true, sources: file}}", "sources"),
        ("policy: {groups: {pupils: {directory_groups: cn=x}}}", "directory_groups"),
    ],
)
def test_invalid_identity_settings_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text + "\n"))
