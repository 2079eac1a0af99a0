from __future__ import annotations

import argparse

import pytest
from pydantic import ValidationError

from filterproxy.config.model import Config
from filterproxy.errors import ConfigError
from filterproxy.metrics.auth import BasicAuth, hash_password, verify_password
from filterproxy.metrics.commands import add_metrics_argument, apply_metrics_argument
from filterproxy.metrics.settings import MetricsSettings


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "prom"}, "no password"),
        ({"password_env": "X"}, "no username"),
        ({"username": "p", "password_env": "X", "password_file": "f"}, "only one"),
        ({"username": "p", "password_hash": "plain-text"}, "pbkdf2_sha256"),
        ({"listen": "nohost"}, "HOST:PORT"),
        ({"path": "metrics"}, "pattern"),
    ],
)
def test_invalid_settings(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MetricsSettings.model_validate(fields)


def test_hash_round_trip_and_no_plain_text() -> None:
    encoded = hash_password("hunter2", iterations=1000)
    assert "hunter2" not in encoded
    assert verify_password("hunter2", encoded)
    assert not verify_password("Hunter2", encoded)
    assert not verify_password("pw", "garbage")
    assert not verify_password("pw", "md5$1$a$b")


def test_secret_from_env_is_hashed_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FP_PW", "hunter2")
    auth = BasicAuth.from_settings(MetricsSettings(username="u", password_env="FP_PW"))
    assert auth is not None and "hunter2" not in repr(auth)
    assert auth.password_hash.startswith("pbkdf2_sha256$")
    assert BasicAuth.from_settings(MetricsSettings()) is None


def test_metrics_option_overrides_listen() -> None:
    parser = argparse.ArgumentParser()
    add_metrics_argument(parser)
    config = Config()
    assert apply_metrics_argument(config, parser.parse_args([]).metrics) is config
    changed = apply_metrics_argument(config, parser.parse_args(["--metrics", "127.0.0.1:9999"]).metrics)
    assert changed.metrics.listen == "127.0.0.1:9999" and changed.metrics.enabled
    assert not apply_metrics_argument(config, "off").metrics.enabled
    with pytest.raises(ConfigError, match="--metrics"):
        apply_metrics_argument(config, "127.0.0.1:99999")
