"""`filterproxy identity ...`, `check --user` and `incidents history` through the real CLI entry point."""

from __future__ import annotations

import io
import ipaddress
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from filterproxy.cli import main
from filterproxy.identity.model import Identity, IdentitySource
from filterproxy.identity.runtime import SESSIONS_FILE
from filterproxy.identity.sessions import Session, SessionMap
from filterproxy.incidents.queue import IncidentQueue
from filterproxy.incidents.settings import IncidentSettings
from tests.identity.slapd import PUPIL_GROUP, SERVICE, SERVICE_PASSWORD, STAFF_GROUP, SUFFIX, Slapd
from tests.incidents.conftest import make_event

POLICY = f"""
policy:
  default_group: guests
  groups:
    guests: {{networks: ["10.0.0.0/8"], categories: {{gambling: allow}}}}
    pupils: {{directory_groups: ["{PUPIL_GROUP}", "pupil"]}}
    staff: {{directory_groups: ["{STAFF_GROUP}", "staff"], categories: {{gambling: allow}}}}
lists:
  sources: [{{id: t/gambling, category: gambling, path: gambling.txt}}]
"""


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def call(config: Path, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(["--config", str(config), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return call


def file_config(tmp_path: Path) -> Path:
    (tmp_path / "gambling.txt").write_text("bet.example\n")
    config = tmp_path / "filterproxy.yaml"
    config.write_text("data_dir: data\n" + POLICY + "identity:\n  proxy_auth: {enabled: true, source: file}\n")
    return config


def test_passwd_then_check_user_explains_the_group(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    config = file_config(tmp_path)
    code, out, _ = run(config, "identity", "passwd", "t.jones", "--groups", "staff", "--password-stdin",
                       stdin="long-enough-pass\n")
    assert code == 0 and "password set" in out
    assert "long-enough-pass" not in (tmp_path / "data" / "identity" / "users").read_text()
    code, _, err = run(config, "identity", "passwd", "x", "--password-stdin", stdin="short\n")
    assert code == 1 and "8 characters" in err
    # the network alone: guests allow gambling; p.smith (RADIUS Class "pupil") is blocked; t.jones allowed
    sessions = SessionMap(10)
    who = Identity("p.smith", ("pupil",), IdentitySource.RADIUS, 1.0)
    sessions.start(ipaddress.ip_address("10.1.2.3"), Session(who, 4e9, "10.0.0.1", "s1"))
    sessions.save(tmp_path / "data" / SESSIONS_FILE)
    code, out, _ = run(config, "identity", "sessions", "--json")
    assert [(r["address"], r["user"], r["directory"]) for r in json.loads(out)] == [("10.1.2.3", "p.smith", ["pupil"])]
    code, out, _ = run(config, "identity", "sessions")
    assert "1 live session(s)" in out and "p.smith" in out
    code, out, _ = run(config, "check", "bet.example", "--client", "10.1.2.3")
    assert code == 0 and "\tALLOW\t" in out and "group=guests" in out
    code, out, _ = run(config, "check", "bet.example", "--client", "10.1.2.3", "--user", "p.smith")
    assert "\tBLOCK\t" in out and "group=pupils" in out and "beats the network's guests" in out
    assert "radius (session at 10.1.2.3): pupil" in out
    code, out, _ = run(config, "check", "bet.example", "--client", "10.1.2.3", "--user", "T.Jones", "--json")
    record = json.loads(out)
    assert (record["action"], record["group"], record["directory_groups"]) == ("allow", "staff", ["staff"])
    code, out, _ = run(config, "check", "bet.example", "--client", "10.1.2.3", "--user", "nobody")
    assert "\tALLOW\t" in out and "nobody is in no identity source" in out and "the network's guests" in out
    code, out, _ = run(config, "check", "bet.example", "--directory-group", f" CN=Pupils,OU=Groups,{SUFFIX}")
    assert "\tBLOCK\t" in out and "group=pupils" in out


def test_check_user_reads_ldap_groups(tmp_path: Path, run, slapd: Slapd) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "gambling.txt").write_text("bet.example\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pw").write_text(SERVICE_PASSWORD)
    config = tmp_path / "filterproxy.yaml"
    config.write_text("data_dir: data\n" + POLICY + f"""identity:
  proxy_auth:
    enabled: true
    source: ldap
    ldap: {{url: "{slapd.url}", bind_dn: "{SERVICE}", bind_password_file: pw, base_dn: "{SUFFIX}"}}
""")
    code, out, _ = run(config, "check", "bet.example", "--client", "10.9.9.9", "--user", "t.jones")
    assert code == 0 and "\tALLOW\t" in out and "group=staff" in out and f"ldap (uid=t.jones,ou=people,{SUFFIX})" in out
    code, out, _ = run(config, "check", "bet.example", "--client", "10.9.9.9", "--user", "p.smith")
    assert "\tBLOCK\t" in out and "group=pupils" in out


def test_history_is_an_hour_either_side(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "filterproxy.yaml"
    config.write_text("data_dir: var\nincidents: {store: 'sqlite:incidents.db'}\n")
    queue = IncidentQueue(IncidentSettings(store="sqlite:incidents.db", flush_interval=0.05, dedup_window=0),
                          tmp_path / "var", CollectorRegistry(), node="n1")
    queue.start_sync()
    centre = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    since = centre - timedelta(minutes=20)
    for minutes, site, user, ref in [(-90, "early.example", "p.smith", "AAA-AAA-AA2"),
                                     (-50, "before.example", "P.Smith", "AAA-AAA-AA3"),
                                     (0, "centre.example", "p.smith", "AAA-AAA-AA4"),
                                     (10, "other.example", "t.jones", "AAA-AAA-AA5"),
                                     (55, "after.example", "p.smith", "AAA-AAA-AA6"),
                                     (70, "late.example", "p.smith", "AAA-AAA-AA7")]:
        event = make_event("10.1.2.3", site, at=centre + timedelta(minutes=minutes), user=user, reference=ref)
        queue.submit(event._replace(identified_by="radius", identified_at=since))
    queue.stop_sync()
    code, out, _ = run(config, "incidents", "history", "--around", "AAA-AAA-AA4")
    assert code == 0 and out.startswith("p.smith: 3 incident(s) from 2026-03-02 09:00 to 2026-03-02 11:00 UTC")
    hosts = [line.lstrip("*").split()[5] for line in out.splitlines()[1:]]
    assert hosts == ["www.before.example", "www.centre.example", "www.after.example"]
    assert out.splitlines()[2].startswith("*")  # the incident at the centre is marked
    assert "p.smith (radius, 20 min before)" in out
    code, out, _ = run(config, "incidents", "history", "--around", "AAA-AAA-AA4", "--user", "t.jones", "--json")
    assert [i["host"] for i in json.loads(out)] == ["www.other.example"]
    code, out, _ = run(config, "incidents", "show", "AAA-AAA-AA4")
    assert "p.smith (radius, 20 min before)" in out and "identified_by: radius" in out
    code, out, _ = run(config, "incidents", "list", "--user", "t.jones")
    assert "www.other.example" not in out and "other.example" in out and "centre.example" not in out
    code, _, err = run(config, "incidents", "history")
    assert code == 1 and "--user" in err
