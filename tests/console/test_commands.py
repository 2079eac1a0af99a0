"""`filterproxy users ...` and `filterproxy requests ...` through the real CLI entry point."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from filterproxy.cli import main
from filterproxy.console.unblock import RequestStore
from filterproxy.console.users import UserStore
from filterproxy.passwords import verify_password
from tests.console.conftest import make_config


def run(config: Path, monkeypatch: pytest.MonkeyPatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["--config", str(config), *args])


def test_users_lifecycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = make_config(tmp_path)
    path = tmp_path / "filterproxy.yaml"
    assert run(path, monkeypatch, "users", "list") == 0
    assert "make the first admin" in capsys.readouterr().out
    assert run(path, monkeypatch, "users", "add", "ict", "--role", "admin", "--password-stdin", stdin="short\n") == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert run(path, monkeypatch, "users", "add", "ict", "--role", "admin", "--password-stdin",
               stdin="a good long password\n") == 0
    store = UserStore(cfg.data_dir)
    user = store.get("ict")
    assert user is not None and verify_password("a good long password", user.password_hash)
    assert run(path, monkeypatch, "users", "passwd", "ict", "--password-stdin", stdin="another long password\n") == 0
    changed = store.get("ict")
    assert changed is not None and changed.generation == 2
    capsys.readouterr()
    assert run(path, monkeypatch, "users", "token", "ict") == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("fpc_") and store.by_token(token) is not None
    assert run(path, monkeypatch, "users", "remove", "ict") == 0
    assert store.get("ict") is None
    actions = [json.loads(x)["action"] for x in (cfg.data_dir / "audit.jsonl").read_text().splitlines()]
    assert actions == ["console.user.add", "console.user.passwd", "console.token.add", "console.user.remove"]


def test_requests_list_approve_decline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    cfg = make_config(tmp_path)
    path = tmp_path / "filterproxy.yaml"
    store = RequestStore(cfg.data_dir)
    first = store.create(reference="AAA-BBB-CCC", site="bet.example", url="", category="gambling", group="pupils",
                         who="", client="10.0.0.1", reason="project")
    second = store.create(reference="DDD-EEE-FFF", site="adult.example", url="", category="adult", group="pupils",
                          who="", client="10.0.0.1", reason="please")
    assert run(path, monkeypatch, "requests", "list", "--json") == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)] == [second.id, first.id]
    assert run(path, monkeypatch, "requests", "approve", str(first.id), "--hours", "3", "--note", "lesson") == 0
    assert "approved bet.example until" in capsys.readouterr().out
    assert run(path, monkeypatch, "requests", "decline", str(second.id), "--note", "not suitable") == 0
    assert run(path, monkeypatch, "requests", "approve", str(second.id)) == 1
    assert "declined already" in capsys.readouterr().err
    assert "bet.example" in (cfg.data_dir / "local" / "allow.txt").read_text()
