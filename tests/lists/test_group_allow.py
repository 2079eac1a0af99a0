"""Allow lists for one policy group (``<local>/allow-groups/<group>.txt``): edited through the audited path,
watched for reloads, and consulted by the classifier only for that group's clients."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from filterproxy.config.loader import load_config
from filterproxy.errors import ConfigError
from filterproxy.lists import editing
from filterproxy.lists.loader import load_classifier, local_files
from filterproxy.lists.local import load_local
from filterproxy.model import Action, Query, Reason


def test_group_allow_applies_to_its_group_only(tmp_path: Path) -> None:
    (tmp_path / "gambling.txt").write_text("bet.example\n")
    path = tmp_path / "filterproxy.yaml"
    path.write_text("""data_dir: data
lists:
  sources: [{id: t/gambling, category: gambling, path: gambling.txt}]
policy:
  default_group: pupils
  groups:
    pupils: {networks: ["10.20.0.0/16"]}
    staff: {networks: ["10.10.0.0/16"]}
""")
    config = load_config(path)
    assert editing.edit(config, "allow", ["www.bet.example"], "staff research", None, user="ict",
                        group="staff") == ["www.bet.example"]
    files = local_files(config)
    assert files.group_allow_file("staff") in files.all_files()
    assert load_local(files).group_allow == {"staff": frozenset({"www.bet.example"})}
    classifier = load_classifier(config)
    now = datetime.now(UTC)
    staff = classifier.classify(Query(ipaddress.ip_address("10.10.0.9"), "www.bet.example", now))
    pupil = classifier.classify(Query(ipaddress.ip_address("10.20.0.9"), "www.bet.example", now))
    assert (staff.action, staff.reason) == (Action.ALLOW, Reason.LOCAL_ALLOW)
    assert pupil.action is Action.BLOCK
    record = json.loads(files.audit_log.read_text().splitlines()[-1])
    assert (record["user"], record["action"], record["detail"]) == ("ict", "allow", "group staff")
    with pytest.raises(ConfigError, match="unknown group"):
        editing.edit(config, "allow", ["x.example"], "r", None, group="nobody")
    editing.edit(config, "unallow", ["www.bet.example"], "done", None, group="staff")
    assert load_local(files).group_allow == {}
