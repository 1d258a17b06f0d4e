"""One report: every `--json` prints the same record with the same keys, whichever
command shows it (docs/json.md), and each record says which schema it follows."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from typing import Any

from tests.support.services import free_port

BROKEN = "def total(items):\n    return sum(items\n\n\nprint(total([1, 2]))\n"
CRASHES = "def pay(amount):\n    return amount + bonus\n\n\nprint(pay(1))\n"
# The keys docs/json.md gives an attempt, in the order it lists them.
ATTEMPT_KEYS = [
    "schema",
    "id",
    "cycle",
    "time",
    "file",
    "language",
    "message",
    "rung",
    "outcome",
    "reason",
    "tokens",
    "seconds",
    "backend",
    "model",
    "backup",
    "diff",
    "undone",
    "old_sha",
    "new_sha",
]


def review_mode(workspace) -> None:
    """Fixes wait for review; the zero-token rung makes them (no model)."""
    workspace.write_config(mechanic={"apply": "review", "file_cooldown_hours": 0})


def test_the_same_attempt_is_the_same_object_in_once_status_and_pending(workspace):
    review_mode(workspace)
    workspace.file("calc.py", BROKEN)
    once = workspace.run("once", "--json")
    assert once.returncode == 1, once.stderr
    [attempt] = once.json["attempts"]
    assert attempt["outcome"] == "pending" and attempt["diff"]
    assert list(attempt) == ATTEMPT_KEYS
    assert attempt["schema"] == 1 and attempt["file"] == str(workspace.src / "calc.py")
    assert attempt["message"].startswith("SyntaxError") and attempt["rung"] == "deterministic"
    assert datetime.fromisoformat(attempt["time"]).utcoffset() is not None

    [recent] = workspace.run("status", "--json").json["recent_attempts"]
    [patch] = workspace.run("pending", "--json").json
    assert recent == attempt
    assert patch["attempt"] == attempt
    assert (patch["schema"], patch["file"], patch["message"]) == (
        1,
        attempt["file"],
        attempt["message"],
    )
    assert patch["diff"] == attempt["diff"]


def test_an_applied_and_reverted_attempt_is_the_same_object_in_once_and_status(workspace):
    workspace.file("calc.py", BROKEN)
    [attempt] = workspace.run("once", "--json").json["attempts"]
    assert attempt["outcome"] == "applied" and attempt["backup"]
    assert attempt["tokens"] == {"prompt": 0, "answer": 0}  # the zero-token rung
    assert workspace.run("status", "--json").json["recent_attempts"] == [attempt]
    assert workspace.run("revert", str(attempt["id"])).returncode == 0
    [after] = workspace.run("status", "--json").json["recent_attempts"]
    assert datetime.fromisoformat(after["undone"]).utcoffset() is not None
    assert {**after, "undone": None} == attempt  # the revert changed only that


def test_the_same_finding_and_runtime_error_read_alike_in_once_check_and_status(workspace):
    logs = workspace.root / "logs"
    logs.mkdir()
    workspace.write_config(raw='\n[[errorlog]]\npath = "logs/*-error.log"\n')
    calc = workspace.file("calc.py", CRASHES)
    done = subprocess.run([sys.executable, str(calc)], capture_output=True, text=True, check=False)
    (logs / "calc-error.log").write_text(done.stderr)

    once = workspace.run("once", "--dry-run", "--json").json
    [finding] = once["findings"]
    assert finding == {
        "schema": 1,
        "file": str(calc.resolve()),
        "language": "python",
        "line": 2,
        "column": finding["column"],
        "message": "NameError: name 'bonus' is not defined",
        "kind": "runtime",
    }
    assert workspace.run("check", "--json").json == [finding]
    [error] = once["runtime_errors"]
    for key in ("schema", "file", "language", "line", "column", "message", "kind"):
        assert error[key] == finding[key], key
    assert error["log"] == str(logs / "calc-error.log") and error["count"] == 1
    assert workspace.run("status", "--json").json["runtime_errors"] == [error]


def records(value: Any) -> list[dict[str, Any]]:
    """The objects a --json printed: the top one, and every one in a list."""
    found = []
    if isinstance(value, dict):
        found.append(value)
        for item in value.values():
            if isinstance(item, list):
                found += [i for i in item if isinstance(i, dict)]
    elif isinstance(value, list):
        found += [i for i in value if isinstance(i, dict)]
    return found


def test_every_record_every_command_prints_says_schema_1(workspace):
    workspace.write_config(
        mechanic={"apply": "review", "file_cooldown_hours": 0},
        raw=f'\n[[probe]]\nname = "db"\ntype = "tcp"\nhost = "127.0.0.1"\nport = {free_port()}\n',
    )
    workspace.file("calc.py", BROKEN)
    workspace.file("other.py", "def f(:\n")
    printed = {
        "once": workspace.run("once", "--json").json,
        "check": workspace.run("check", "--json").json,
        "status": workspace.run("status", "--json").json,
        "pending": workspace.run("pending", "--json").json,
        "probe": workspace.run("probe", "--json").json,
        "store check": workspace.run("store", "check", "--json").json,
    }
    for command, value in printed.items():
        objects = records(value)
        assert objects, command
        for item in objects:
            assert item.get("schema") == 1, (command, item)
    assert printed["once"]["probes"][0]["status"] == "down"
    assert printed["probe"][0]["name"] == "db"
    assert printed["status"]["probes"][0]["name"] == "db"
    assert len(printed["pending"]) == 1  # other.py: no zero-token fix, still broken
    assert [f["file"] for f in printed["once"]["remaining"]][-1].endswith("other.py")
