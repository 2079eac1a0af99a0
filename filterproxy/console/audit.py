"""Console actions in the audit log, ``<data_dir>/audit.jsonl``, with the person's name.

List edits made from the console are written by :func:`filterproxy.lists.local.audit` as the CLI
writes them (action ``allow``, ``add``...). Everything else a person does in the console (sign-in,
a refused sign-in, incident moves, unblock decisions, self-test runs) is written here with an
action ``console.<what>``, which the annual review's list-change figures leave out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filterproxy.files import append_line


def console_audit(audit_log: Path, user: str, what: str, **detail: Any) -> None:
    """Append one record (fsync'd) for ``user`` doing ``what``."""
    record: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": user,
        "action": f"console.{what}",
        "entries": [],
        "reason": str(detail.pop("reason", "")),
    }
    record.update({k: v for k, v in detail.items() if v is not None})
    append_line(audit_log, json.dumps(record, default=str))
