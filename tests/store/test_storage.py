"""Full disks and failing storage: when the backup or the intent cannot be
written nothing is applied; when the store is locked or corrupt the cycle
says so and touches no file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mechanic.store import Store

REPO = Path(__file__).resolve().parents[2]
BROKEN = b"def total(items):\n    return sum(items\n" + b"# some history\n" * 12
FIXED = BROKEN.replace(b"sum(items\n", b"sum(items)\n")

# Runs the real transaction in a process whose files may not grow past a limit,
# as on a full disk; SIGXFSZ is ignored so a write fails with EFBIG instead.
APPLY_UNDER_LIMIT = """
import json, resource, signal, sys
from pathlib import Path
from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.discovery import Guard
from mechanic.write.transaction import apply_fix

target, backups, limit = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
original = target.read_bytes()
fixed = original.replace(b"sum(items\\n", b"sum(items)\\n")
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
result = apply_fix(target, original=original, fixed=fixed, checker=PythonChecker(),
                   backup_dir=backups, guard=Guard([], [target.parent]))
print(json.dumps({"outcome": result.outcome, "reason": result.reason}))
"""


@pytest.mark.parametrize(
    ("limit", "words"),
    [(64, "backup could not be written"), (len(BROKEN) + 8, "intent could not be recorded")],
    ids=["backup-full", "intent-full"],
)
def test_a_full_disk_stops_the_apply_and_leaves_nothing_half_written(tmp_path, limit, words):
    root, backups = tmp_path / "src", tmp_path / "backups"
    root.mkdir()
    target = root / "calc.py"
    target.write_bytes(BROKEN)
    done = subprocess.run(
        [sys.executable, "-c", APPLY_UNDER_LIMIT, str(target), str(backups), str(limit)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["outcome"] == "skipped"
    assert words in result["reason"]
    assert target.read_bytes() == BROKEN
    assert [p.name for p in root.iterdir()] == ["calc.py"]
    # No truncated file that could pass for a backup or an intent.
    for path in backups.rglob("*"):
        assert path.is_dir() or path.read_bytes() == BROKEN, path


def test_with_room_the_same_apply_succeeds(tmp_path):
    """The limit above is what stops it: with room to write, it applies."""
    root, backups = tmp_path / "src", tmp_path / "backups"
    root.mkdir()
    target = root / "calc.py"
    target.write_bytes(BROKEN)
    done = subprocess.run(
        [sys.executable, "-c", APPLY_UNDER_LIMIT, str(target), str(backups), str(10**6)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    assert json.loads(done.stdout)["outcome"] == "applied"
    assert target.read_bytes() == FIXED


def test_a_locked_store_stops_the_cycle_before_any_file_is_touched(workspace, ollama_standin):
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    path = workspace.file("calc.py", BROKEN)
    Store.open(workspace.state).close()
    holder = sqlite3.connect(workspace.state / "mechanic.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than mechanic waits
    try:
        result = workspace.run("once")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1
    assert "state store" in result.stderr and "locked" in result.stderr
    assert ollama_standin.inference_count == 0
    assert path.read_bytes() == BROKEN


def test_a_store_that_locks_during_the_model_call_leaves_the_file_untouched(
    workspace, ollama_standin
):
    """The fix is written, then the store cannot record it: the write is taken
    back, so no fix ever goes unrecorded, and the cycle says why it stopped."""
    from tests.support.ollama_standin import Reply

    workspace.write_config(
        llm={"backend": "ollama", "host": ollama_standin.url},
        raw="[repair]\ndeterministic = false\n",
    )
    path = workspace.file("calc.py", BROKEN)
    holders = []

    def lock_the_store(_request):
        holder = sqlite3.connect(
            workspace.state / "mechanic.sqlite3", isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN EXCLUSIVE")
        holders.append(holder)

    ollama_standin.reply(Reply(FIXED.decode(), on_request=lock_the_store))
    try:
        result = workspace.run("once")
    finally:
        for holder in holders:
            holder.execute("ROLLBACK")
            holder.close()
    assert ollama_standin.inference_count == 1
    assert result.returncode == 1
    assert "state store" in result.stderr and "locked" in result.stderr
    assert path.read_bytes() == BROKEN
    assert sorted(p.name for p in workspace.src.iterdir()) == ["calc.py"]
