"""The transaction: the only writer of user files. Every exit leaves the file as
its original bytes or as a fix that passed the checker."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from mechanic.detect.checkers.base import Finding
from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.discovery import Guard
from mechanic.write.transaction import Refused, apply_fix, restore_backup, sha256, write_backup

BROKEN = b"def f(:\n    return 1\n"
FIXED = b"def f():\n    return 1\n"


@pytest.fixture
def root(tmp_path) -> Path:
    path = tmp_path / "src"
    path.mkdir()
    return path


@pytest.fixture
def guard(root) -> Guard:
    return Guard(["core.py"], [root])


def apply(target: Path, guard: Guard, fixed: bytes = FIXED, checker=None, original=BROKEN):
    return apply_fix(
        target,
        original=original,
        fixed=fixed,
        checker=checker or PythonChecker(),
        backup_dir=target.parent.parent / "backups",
        guard=guard,
    )


def restore(target: Path, result, guard: Guard) -> None:
    restore_backup(
        target,
        backup=result.backup_path,
        expected=FIXED,
        guard=guard,
        backup_dir=result.backup_path.parent,
        original_sha=result.old_sha,
    )


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if "mechanic-tmp" in p.name]


def test_a_valid_fix_is_applied_with_a_backup_of_the_original(root, guard):
    target = root / "a.py"
    target.write_bytes(BROKEN)
    result = apply(target, guard)
    assert result.outcome == "applied"
    assert target.read_bytes() == FIXED
    assert result.backup_path.read_bytes() == BROKEN
    assert result.old_sha == sha256(BROKEN) and result.new_sha == sha256(FIXED)
    assert "-def f(:" in result.diff and "+def f():" in result.diff
    assert leftovers(root) == []


def test_a_fix_that_does_not_parse_is_never_written(root, guard):
    target = root / "a.py"
    target.write_bytes(BROKEN)
    before = os.stat(target)
    result = apply(target, guard, fixed=b"def f(\n    return 1\n")
    assert result.outcome == "reverted"
    assert "never written" in result.reason
    assert target.read_bytes() == BROKEN
    assert os.stat(target).st_mtime_ns == before.st_mtime_ns
    assert not (root.parent / "backups").exists()


class FailsOnDisk(PythonChecker):
    """A checker whose verdict on the written file differs from the one in
    memory, as when something alters the file as it lands on disk."""

    def check_files(self, paths):
        return {p: Finding(p, "python", 1, 1, "SyntaxError: changed on disk") for p in paths}


def test_a_fix_that_fails_on_disk_is_reverted_to_the_exact_original_bytes(root, guard):
    target = root / "a.py"
    original = b"# caf\xc3\xa9\r\ndef f(:\r\n    return 1"  # CRLF, no final newline
    target.write_bytes(original)
    result = apply(target, guard, fixed=FIXED, checker=FailsOnDisk(), original=original)
    assert result.outcome == "reverted"
    assert "restored" in result.reason
    assert target.read_bytes() == original
    assert result.backup_path.read_bytes() == original
    assert leftovers(root) == []


def test_a_file_saved_by_someone_after_it_was_read_is_left_alone(root, guard):
    target = root / "a.py"
    target.write_bytes(b"def f():\n    return 2  # the person's own fix\n")
    result = apply(target, guard)
    assert result.outcome == "skipped"
    assert "changed by someone" in result.reason
    assert target.read_bytes() == b"def f():\n    return 2  # the person's own fix\n"


@pytest.mark.parametrize("save", ["whole", "half then the rest"])
def test_a_save_that_opened_the_file_just_before_the_rename_is_kept(root, guard, monkeypatch, save):
    # The person's editor opened the file after mechanic's last look and writes
    # once the rename is done: into the inode the rename took away from the name.
    # Their bytes must end up under the name, and the fix must step back.
    target = root / "a.py"
    target.write_bytes(BROKEN)
    theirs = b"def f():\n    return 2  # saved by hand\n"
    real_replace = os.replace

    def rename_while_they_save(source, destination):
        monkeypatch.setattr(os, "replace", real_replace)  # they save once
        handle = open(destination, "r+b")  # noqa: SIM115 - the person's open file
        real_replace(source, destination)
        handle.truncate(0)
        if save == "whole":
            handle.write(theirs)
            handle.close()
        else:  # their save is still going when mechanic first looks again
            handle.write(theirs[:10])
            handle.flush()

            def rest() -> None:
                time.sleep(0.02)
                handle.write(theirs[10:])
                handle.close()

            threading.Thread(target=rest).start()

    monkeypatch.setattr(os, "replace", rename_while_they_save)
    result = apply(target, guard)
    assert result.outcome == "skipped", result
    assert "their save is kept" in result.reason
    assert target.read_bytes() == theirs


def test_permissions_are_kept(root, guard):
    target = root / "tool.py"
    target.write_bytes(BROKEN)
    os.chmod(target, 0o751)
    assert apply(target, guard).outcome == "applied"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o751


def test_a_read_only_file_is_never_written(root, guard):
    target = root / "a.py"
    target.write_bytes(BROKEN)
    os.chmod(target, 0o444)
    result = apply(target, guard)
    assert result.outcome == "skipped" and "read-only" in result.reason
    assert target.read_bytes() == BROKEN


def test_a_protected_file_is_never_written(root, guard):
    target = root / "core.py"
    target.write_bytes(BROKEN)
    result = apply(target, guard)
    assert result.outcome == "skipped" and "protected" in result.reason
    assert target.read_bytes() == BROKEN


def test_a_file_outside_every_watch_root_is_never_written(tmp_path, guard):
    outside = tmp_path / "elsewhere.py"
    outside.write_bytes(BROKEN)
    assert apply(outside, guard).outcome == "skipped"
    assert outside.read_bytes() == BROKEN


def test_a_symlink_to_a_protected_file_is_never_written(root, guard):
    (root / "core.py").write_bytes(BROKEN)
    (root / "helper.py").symlink_to(root / "core.py")
    result = apply(root / "helper.py", guard)
    assert result.outcome == "skipped"
    assert (root / "core.py").read_bytes() == BROKEN


def test_when_the_backup_cannot_be_written_nothing_is_applied(root, guard, tmp_path):
    target = root / "a.py"
    target.write_bytes(BROKEN)
    (tmp_path / "backups").write_text("a file where the backup folder should be")
    result = apply(target, guard)
    assert result.outcome == "skipped"
    assert "backup could not be written" in result.reason
    assert target.read_bytes() == BROKEN


def test_backups_never_overwrite_each_other(tmp_path):
    target = tmp_path / "a.py"
    first = write_backup(target, b"one", tmp_path / "backups")
    second = write_backup(target, b"one", tmp_path / "backups")
    assert first != second
    assert first.read_bytes() == second.read_bytes() == b"one"


def test_restoring_a_backup_refuses_when_the_file_changed_since(root, guard):
    target = root / "a.py"
    target.write_bytes(BROKEN)
    result = apply(target, guard)
    target.write_bytes(b"x = 'edited by hand'\n")
    with pytest.raises(Refused, match="changed since"):
        restore(target, result, guard)
    assert target.read_bytes() == b"x = 'edited by hand'\n"


def test_restoring_a_backup_puts_the_original_bytes_back(root, guard):
    target = root / "a.py"
    target.write_bytes(BROKEN)
    result = apply(target, guard)
    restore(target, result, guard)
    assert target.read_bytes() == BROKEN
