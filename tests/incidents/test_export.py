"""CSV export opens safely in a spreadsheet: RFC 4180 quoting, formula injection neutralised."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from filterproxy.incidents.export import CSV_COLUMNS, safe_cell, write_csv, write_json
from filterproxy.incidents.model import Incident, Status

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("bet.example", "bet.example"),
        (None, ""),
        (7, "7"),
        (T0, "2026-03-02T09:00:00+00:00"),
    ],
)
def test_safe_cell(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def incident(**fields: object) -> Incident:
    base: dict[str, object] = {
        "id": 1,
        "status": Status.NEW,
        "site": "bet.example",
        "host": "bet.example",
        "category": "gambling",
        "first_seen": T0,
        "last_seen": T0,
        "reference": "K7Q-M2XD",
    }
    return Incident(**{**base, **fields})  # type: ignore[arg-type]


def test_csv_is_rfc4180_and_round_trips() -> None:
    hostile = incident(
        search_term='=IMPORTXML("http://x","//a")',
        user='Smith, "Jo"',
        url="http://bet.example/a?q=1\r\nsecond line",
    )
    out = io.StringIO(newline="")
    assert write_csv([hostile, incident(id=2)], out) == 2
    text = out.getvalue()
    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    assert text.count("\r\n") == 4  # header, two rows, and the CRLF inside the quoted URL
    assert '"Smith, ""Jo"""' in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows[0]["search_term"] == '\'=IMPORTXML("http://x","//a")'
    assert rows[0]["user"] == 'Smith, "Jo"'
    assert rows[0]["url"] == "http://bet.example/a?q=1\r\nsecond line"
    assert (rows[1]["id"], rows[1]["status"], rows[1]["count"]) == ("2", "new", "1")


def test_json_export() -> None:
    out = io.StringIO()
    write_json([incident()], out)
    (item,) = json.loads(out.getvalue())
    assert (item["id"], item["status"], item["first_seen"]) == (1, "new", "2026-03-02T09:00:00Z")
