"""`filterproxy incidents ...` against a real SQLite store, through the real CLI entry point."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from filterproxy.cli import main
from filterproxy.incidents.queue import IncidentQueue
from filterproxy.incidents.settings import IncidentSettings
from filterproxy.model import Category

from .conftest import make_event


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    config = tmp_path / "filterproxy.yaml"
    config.write_text("incidents:\n  store: sqlite:incidents.db\n  retention_days: 30\n")
    queue = IncidentQueue(
        IncidentSettings(store="sqlite:incidents.db", flush_interval=0.05),
        tmp_path / "var",
        CollectorRegistry(),
        node="n1",
    )
    queue.start_sync()
    old = datetime.now(UTC) - timedelta(days=40)
    queue.submit(make_event("10.0.0.5", "bet.example", at=old, url="http://bet.example/?u=amy"))
    queue.submit(make_event("10.0.0.7", "harm.example", Category.SELFHARM, reference="ABC-DEFG", search_term="=cmd()"))
    queue.stop_sync()

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_list_and_filters(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("incidents", "list")
    assert code == 0 and "harm.example" in out and "bet.example" in out
    _, out, _ = cli("incidents", "list", "--category", "selfharm", "--json")
    (item,) = json.loads(out)
    assert (item["site"], item["severity"], item["client"]) == ("harm.example", "high", "10.0.0.7")
    _, out, _ = cli("incidents", "list", "--since", "7d", "--json")
    assert [i["site"] for i in json.loads(out)] == ["harm.example"]
    _, out, _ = cli("incidents", "list", "--client", "10.0.0.5", "--status", "new", "--json")
    assert [i["site"] for i in json.loads(out)] == ["bet.example"]


def test_an_unknown_category_is_refused_with_the_nearest_one(cli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exited:
        cli("incidents", "list", "--category", "gamblin")
    assert exited.value.code == 2
    _, out, _ = cli("incidents", "list", "--category", "SelfHarm", "--json")
    assert [i["site"] for i in json.loads(out)] == ["harm.example"]


def test_unknown_category_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["incidents", "list", "--category", "gamblin"])
    err = capsys.readouterr().err
    assert "unknown category 'gamblin'; did you mean 'gambling'?" in err and "selfharm" in err
    assert "Traceback" not in err


def test_lifecycle_through_the_cli(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("incidents", "triage", "ABC-DEFG", "--note", "pupil spoken to")
    assert code == 0 and "new -> triaged" in out
    assert cli("incidents", "report", "ABC-DEFG", "--note", "head informed", "--action", "DSL told")[0] == 0
    assert cli("incidents", "escalate", "ABC-DEFG", "--note", "police informed")[0] == 0
    code, _, err = cli("incidents", "triage", "ABC-DEFG", "--note", "again")
    assert code == 1 and "back to triaged" in err
    assert cli("incidents", "close", "ABC-DEFG", "--note", "done", "--outcome", "resolved")[0] == 0
    _, out, _ = cli("incidents", "show", "ABC-DEFG", "--json")
    shown = json.loads(out)
    assert shown["status"] == "closed" and (shown["action"], shown["outcome"]) == ("DSL told", "resolved")
    assert [t["to_status"] for t in shown["transitions"]] == ["triaged", "reported", "escalated", "closed"]
    assert all(t["by"] for t in shown["transitions"]) and "ABC-DEFG" in shown["references"]
    _, out, _ = cli("incidents", "show", str(shown["id"]))
    assert "pupil spoken to" in out and "references: ABC-DEFG" in out
    code, _, err = cli("incidents", "show", "99999")
    assert code == 1 and "no incident 99999" in err


def test_export_csv_and_json(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("incidents", "export", "--csv")
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert code == 0 and len(rows) == 2
    assert next(r for r in rows if r["site"] == "harm.example")["search_term"] == "'=cmd()"
    target = tmp_path / "out.json"
    assert cli("incidents", "export", "--json", "--since", "7d", "-o", str(target))[0] == 0
    assert [i["site"] for i in json.loads(target.read_text())] == ["harm.example"]


def test_purge_uses_configured_retention(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("incidents", "purge")
    assert code == 0 and "from 1 incident(s)" in out and "30 days" in out
    _, out, _ = cli("incidents", "list", "--json")
    by_site = {i["site"]: i for i in json.loads(out)}
    assert by_site["bet.example"]["client"] is None and by_site["bet.example"]["url"] == "http://bet.example/"
    assert by_site["harm.example"]["client"] == "10.0.0.7"


def test_digest_now(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("incidents", "digest")
    assert code == 0 and "weekly incident digest" in out and "Incidents: 1" in out


def test_bad_date_is_a_clear_error(cli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        cli("incidents", "list", "--since", "last tuesday")
