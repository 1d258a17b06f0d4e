"""Crash safety: a mechanic killed at any instant leaves every file as its
original bytes or a validated fix, and the next start cleans up after it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from crash_driver import ORIGINAL, FlakyOnDisk, bad, good, version_of

from mechanic.checkers.python import PythonChecker
from mechanic.discovery import Guard
from mechanic.journal import intents_dir
from mechanic.transaction import apply_fix, recover_interrupted

DRIVER = Path(__file__).resolve().parent / "crash_driver.py"
FILES = ("a.py", "b.py", "c.py")


def valid_states(data: bytes) -> bool:
    """Original, or exactly some validated fix: never empty, partial, or the
    version that failed on disk."""
    return data == ORIGINAL or data == good(version_of(data))


def test_sigkill_at_random_instants_leaves_only_original_or_validated_files(tmp_path):
    root, backups = tmp_path / "src", tmp_path / "backups"
    root.mkdir()
    for name in FILES:
        (root / name).write_bytes(ORIGINAL)
    seed = int(os.environ.get("MECHANIC_CRASH_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    repairs = kills = restored = 0
    while repairs < 200 or kills < 50:
        driver = subprocess.Popen(
            [sys.executable, str(DRIVER), str(root), str(backups), str(rng.randrange(10**6))],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert driver.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0, 0.15))
        driver.send_signal(signal.SIGKILL)
        finished = driver.communicate()[0].split()
        driver.wait()
        kills += 1
        repairs += len(finished) + 1  # the one it was killed in
        # Before recovery: whatever instant it died at, no file is empty or partial.
        for name in FILES:
            data = (root / name).read_bytes()
            assert data == ORIGINAL or data in (good(version_of(data)), bad(version_of(data))), (
                f"seed {seed}: {name} holds a third version"
            )
        results = recover_interrupted(backups, lambda language: FlakyOnDisk())
        restored += sum(r.action == "restored" for r in results)
        for name in FILES:
            assert valid_states((root / name).read_bytes()), f"seed {seed}: {name}"
        assert sorted(p.name for p in root.iterdir()) == sorted(FILES), f"seed {seed}"
        assert not intents_dir(backups).exists() or not list(intents_dir(backups).iterdir())
    print(f"seed {seed}: {kills} kills over {repairs} repairs, {restored} restored on recovery")


def test_an_interrupted_write_of_a_fix_that_failed_on_disk_is_undone(tmp_path):
    """The phase marker decides: a written file that had failed its check comes
    back to its original bytes even when recovery has no checker at hand."""
    root, backups = tmp_path / "src", tmp_path / "backups"
    root.mkdir()
    target = root / "a.py"
    target.write_bytes(ORIGINAL)
    from mechanic import journal, transaction

    backup = transaction.write_backup(target, ORIGINAL, backups)
    intent = journal.begin(
        intents_dir(backups),
        {
            "target": str(target),
            "backup": str(backup),
            "old_sha": transaction.sha256(ORIGINAL),
            "new_sha": transaction.sha256(bad(1)),
            "language": "python",
            "phase": "apply",
        },
    )
    transaction._atomic_replace(target, bad(1), expected=ORIGINAL, temp=intent.intent.temp(0))
    intent.mark("revert")
    intent.intent.temp(1).write_bytes(ORIGINAL[:5])  # killed while writing the restore
    # The process "dies": its lock goes with its file descriptor.
    os.close(intent._fd)
    results = recover_interrupted(backups)
    assert [r.action for r in results] == ["restored"]
    assert target.read_bytes() == ORIGINAL
    assert sorted(p.name for p in root.iterdir()) == ["a.py"]


def test_a_live_transaction_is_never_recovered_under_it(tmp_path):
    root, backups = tmp_path / "src", tmp_path / "backups"
    root.mkdir()
    target = root / "a.py"
    target.write_bytes(ORIGINAL)
    seen = []

    class RecoversMidWrite(PythonChecker):
        def check_files(self, paths):
            # Another mechanic starting right now must leave this write alone.
            seen.extend(recover_interrupted(backups, lambda language: FlakyOnDisk()))
            return super().check_files(paths)

    result = apply_fix(
        target,
        original=ORIGINAL,
        fixed=good(1),
        checker=RecoversMidWrite(),
        backup_dir=backups,
        guard=Guard([], [root]),
    )
    assert result.outcome == "applied"
    assert seen == []
    assert target.read_bytes() == good(1)
    assert list(intents_dir(backups).iterdir()) == []


def test_a_cycle_recovers_before_it_reads_anything(workspace):
    """`mechanic once` after a crash: the interrupted write is resolved and shown."""
    target = workspace.file("a.py", ORIGINAL)
    from mechanic import journal, transaction

    backup = transaction.write_backup(target, ORIGINAL, workspace.backups)
    fixed = b"def f():\n    return 0\n"
    intent = journal.begin(
        intents_dir(workspace.backups),
        {
            "target": str(target),
            "backup": str(backup),
            "old_sha": transaction.sha256(ORIGINAL),
            "new_sha": transaction.sha256(fixed),
            "language": "python",
            "phase": "apply",
        },
    )
    transaction._atomic_replace(target, fixed, expected=ORIGINAL, temp=intent.intent.temp(0))
    os.close(intent._fd)
    result = workspace.run("once", "--json")
    assert result.json["recovered"] == [
        {"file": str(target), "action": "kept-new", "reason": "holds the validated fix"}
    ]
    assert target.read_bytes() == fixed
    assert result.returncode == 0
