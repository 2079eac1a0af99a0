"""The ICT manager's CLI: check, lists stats/add/remove, allow/unallow, audit log, illegal guard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from filterproxy.cli import main


def read_audit(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run(workdir: Path, *args: str) -> int:
    return main(["--config", str(workdir / "filterproxy.yaml"), *args])


def check_json(workdir: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    capsys.readouterr()
    assert run(workdir, "check", "--json", *args) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_check_explains_group_category_source_file_and_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [bet, fb_pupil, url] = check_json(workdir, capsys, "WWW.Casino.Example.", "facebook.com",
                                      "http://hosting.example/bad/x.jpg")
    assert (bet["action"], bet["category"], bet["group"], bet["source"]) == ("block", "gambling", "pupils",
                                                                              "test/gambling")
    assert (bet["rule"], bet["file"], bet["line"]) == ("casino.example", str(workdir / "gambling.hosts"), 3)
    assert fb_pupil["action"] == "block"
    assert (url["category"], url["reason"], url["rule"]) == ("illegal", "illegal", "hosting.example/bad")
    [fb_staff] = check_json(workdir, capsys, "--client", "10.9.1.1", "facebook.com")
    assert (fb_staff["action"], fb_staff["group"]) == ("allow", "staff")


def test_check_help_says_what_the_default_client_gets(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "no group)" not in help_text
    assert "default: 192.0.2.1" in help_text and "the default group" in help_text
    [verdict] = check_json(workdir, capsys, "facebook.com")  # what the default client is
    [explicit] = check_json(workdir, capsys, "--client", "192.0.2.1", "facebook.com")
    assert verdict == explicit and verdict["group"] == "pupils"


def test_check_reads_names_from_a_file(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = workdir / "names.txt"
    names.write_text("bet.example\n# comment\nbbc.co.uk\n")
    results = check_json(workdir, capsys, "--from-file", str(names))
    assert [r["action"] for r in results] == ["block", "allow"]


def test_add_and_remove_take_effect_and_are_audited(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(workdir, "lists", "add", "hate", "Bad.Example", "worse.example", "--reason", "reported by staff") == 0
    [verdict] = check_json(workdir, capsys, "www.bad.example")
    assert (verdict["action"], verdict["reason"], verdict["category"]) == ("block", "local_deny", "hate")
    assert run(workdir, "lists", "remove", "hate", "bad.example", "--reason", "mistake") == 0
    [verdict] = check_json(workdir, capsys, "www.bad.example")
    assert verdict["action"] == "allow"
    audit = read_audit(workdir / "data" / "audit.jsonl")
    assert [(a["action"], a["entries"], a["reason"]) for a in audit] == [
        ("add", ["bad.example", "worse.example"], "reported by staff"),
        ("remove", ["bad.example"], "mistake"),
    ]
    assert all(a["user"] and a["at"] for a in audit)


def test_allow_beats_category_and_unallow_restores(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(workdir, "allow", "bet.example", "--reason", "maths lesson on probability") == 0
    [verdict] = check_json(workdir, capsys, "bet.example")
    assert (verdict["action"], verdict["reason"]) == ("allow", "local_allow")
    assert run(workdir, "unallow", "bet.example", "--reason", "lesson over") == 0
    [verdict] = check_json(workdir, capsys, "bet.example")
    assert verdict["action"] == "block"


def test_allowing_an_illegal_entry_is_refused_and_recorded(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(workdir, "allow", "abuse.example", "--reason", "please") == 1
    assert "illegal" in capsys.readouterr().err
    assert not (workdir / "data" / "local" / "allow.txt").exists() or "abuse" not in (
        workdir / "data" / "local" / "allow.txt"
    ).read_text()
    [record] = read_audit(workdir / "data" / "audit.jsonl")
    assert (record["action"], record["entries"], record["category"]) == ("refused", ["abuse.example"], "illegal")


@pytest.mark.parametrize("allowed", ["self-made.example", "www.self-made.example"])
def test_the_schools_own_illegal_entry_is_never_overridden(
    workdir: Path, capsys: pytest.CaptureFixture[str], allowed: str
) -> None:
    assert run(workdir, "lists", "add", "illegal", "self-made.example", "--reason", "reported to CEOP") == 0
    assert run(workdir, "allow", allowed, "--reason", "a teacher asked") == 1
    err = capsys.readouterr().err
    assert "school's own illegal list" in err and "can never be allowed" in err
    [verdict] = check_json(workdir, capsys, allowed)
    assert (verdict["action"], verdict["reason"], verdict["category"]) == ("block", "illegal", "illegal")
    audit = read_audit(workdir / "data" / "audit.jsonl")
    assert [(a["action"], a["entries"], a["category"]) for a in audit] == [
        ("add", ["self-made.example"], "illegal"), ("refused", [allowed], "illegal")
    ]
    assert "school's own illegal list" in str(audit[1]["detail"])


def test_an_older_allow_entry_does_not_undo_a_later_illegal_entry(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(workdir, "allow", "later.example", "--reason", "fine at the time") == 0
    assert run(workdir, "lists", "add", "illegal", "later.example", "--reason", "now reported") == 0
    assert run(workdir, "lists", "add", "gambling", "later.example", "--reason", "listed twice") == 0
    [verdict] = check_json(workdir, capsys, "sub.later.example")
    assert (verdict["action"], verdict["reason"], verdict["category"]) == ("block", "illegal", "illegal")


def test_edits_need_a_reason_and_valid_names(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(workdir, "allow", "x.example")  # --reason is required
    assert run(workdir, "lists", "add", "adult", "bad name.example", "--reason", "x") == 1
    assert "not allowed" in capsys.readouterr().err


def test_stats_lists_sources_with_counts(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(workdir, "lists", "stats", "--json") == 0
    stats = json.loads(capsys.readouterr().out)
    by_id = {s["source"]: s for s in stats["sources"]}
    assert by_id["test/gambling"]["entries"] == 2 and by_id["test/gambling"]["licence"] == "MIT"
    assert by_id["provider/iwf"]["category"] == "illegal"


def test_data_dir_option_keeps_instances_apart(workdir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other"
    assert main(["--config", str(workdir / "filterproxy.yaml"), "--data-dir", str(other),
                 "allow", "bet.example", "--reason", "x"]) == 0
    assert (other / "local" / "allow.txt").exists()
    [verdict] = check_json(workdir, capsys, "bet.example")  # the default instance is unchanged
    assert verdict["action"] == "block"


def test_enabled_remote_source_without_a_copy_is_skipped_not_fatal(workdir: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with (workdir / "sources.yaml").open("a") as sources:
        sources.write("  - {id: remote/x, category: adult, path: downloads/x.txt, url: 'http://127.0.0.1:9/x.txt'}\n")
    assert run(workdir, "lists", "stats", "--json") == 0
    stats = json.loads(capsys.readouterr().out)
    remote = next(s for s in stats["sources"] if s["source"] == "remote/x")
    assert remote["entries"] == 0 and remote["errors"] == ["not downloaded yet"]
    [verdict] = check_json(workdir, capsys, "bet.example")
    assert verdict["action"] == "block"
