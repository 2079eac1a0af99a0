"""Fixtures for the console tests: a configuration in a temporary directory, people, a running console.

The console runs as in ``filterproxy serve``: a real uvicorn on its own thread and event loop,
on an ephemeral loopback port, reached with a real HTTP client.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from filterproxy.config.loader import load_config
from filterproxy.config.model import Config
from filterproxy.console.server import ConsoleServer
from filterproxy.console.users import Role, UserStore
from filterproxy.passwords import hash_password
from tests.support import Loop

PASSWORDS = {"ict": "ict-manager-pass-1", "dsl": "safeguarding-pass-2", "gov": "governor-pass-3"}
ROLES = {"ict": Role.ADMIN, "dsl": Role.SAFEGUARDING, "gov": Role.VIEWER}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def write_lists(tmp: Path) -> str:
    (tmp / "gambling.txt").write_text("bet.example\n")
    (tmp / "adult.txt").write_text("adult.example\n")
    (tmp / "illegal.txt").write_text("abuse.example\n")
    return """lists:
  watch_interval: 0.3
  sources:
    - {id: t/gambling, category: gambling, path: gambling.txt}
    - {id: t/adult, category: adult, path: adult.txt}
    - {id: t/illegal, category: illegal, path: illegal.txt}
"""


def make_config(tmp: Path, extra: str = "") -> Config:
    path = tmp / "filterproxy.yaml"
    mode = "" if "process:" in extra else "  process: false\n"  # in-process tests reach the server's state
    model_off = "categorise: {enabled: false}\n"  # the console shows what the lists decide
    path.write_text(f"data_dir: data\n{model_off}{write_lists(tmp)}console:\n  listen: 127.0.0.1:0\n{mode}{extra}")
    return load_config(path)


def add_people(config: Config) -> None:
    store = UserStore(config.data_dir)
    for name, role in ROLES.items():
        store.add(name, role, hash_password(PASSWORDS[name], n=2**12))


@dataclass
class Console:
    server: ConsoleServer
    config: Config

    @property
    def url(self) -> str:
        return self.server.url

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=20, follow_redirects=False)

    def login(self, name: str, password: str | None = None) -> httpx.Client:
        client = self.client()
        token = csrf_of(client.get("/login").text)
        answer = client.post("/login", data={"csrf_token": token, "username": name,
                                             "password": password or PASSWORDS[name], "next": "/"})
        assert answer.status_code == 303, answer.text[:500]
        return client


def csrf_of(page: str) -> str:
    match = CSRF.search(page)
    assert match, page[:500]
    return match.group(1)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, loop: Loop) -> Iterator[Console]:
    config = make_config(tmp_path_factory.mktemp("console"))
    add_people(config)
    server = ConsoleServer(config)
    loop.run(server.start())
    assert server.port != 0
    yield Console(server, config)
    loop.run(server.stop())
