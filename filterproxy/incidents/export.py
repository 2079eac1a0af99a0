"""Exports for spreadsheets and other tools: CSV (RFC 4180, formula-safe) and JSON."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from filterproxy.incidents.model import Incident

CSV_COLUMNS = (
    "id",
    "reference",
    "status",
    "severity",
    "first_seen",
    "last_seen",
    "count",
    "client",
    "device",
    "user",
    "identified_by",
    "identified_at",
    "group",
    "protocol",
    "host",
    "site",
    "url",
    "category",
    "verdict",
    "rule",
    "source",
    "search_term",
    "qtype",
    "method",
    "user_agent",
    "action",
    "outcome",
    "node",
    "purged_at",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """Text for one cell; text a spreadsheet would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_csv(incidents: Iterable[Incident], out: TextIO) -> int:
    """RFC 4180: CRLF line ends, fields with comma, quote or line break quoted. Returns rows written."""
    writer = csv.writer(out, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for incident in incidents:
        data = incident.model_dump()
        writer.writerow([safe_cell(_plain(data[name])) for name in CSV_COLUMNS])
        rows += 1
    return rows


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") and not isinstance(value, str) else value


def write_json(incidents: Iterable[Incident], out: TextIO) -> int:
    """A JSON array of incidents (references and audit trail included when loaded)."""
    items = [incident.model_dump(mode="json") for incident in incidents]
    json.dump(items, out, indent=2)
    out.write("\n")
    return len(items)
