"""The only code that writes a user's file.

A fix goes through one sequence, and every exit from it leaves the file either
as its original bytes or as a fix that passed the checker:

1. refuse protected files, read-only files and anything outside the watch roots;
2. validate the new bytes in memory: a fix that does not parse is never written;
   an optional extra validator (tests run in a throwaway copy, mechanic/repair/runtests.py)
   may refuse it too, and then nothing is written and the attempt is "rejected";
3. refuse when the file on disk is no longer the bytes the fix was made from;
4. back up the original bytes (a new file, never overwriting an older backup,
   with the original's permissions, in a 0700 folder);
5. record the intent durably (mechanic/write/journal.py): file, backup, old and new
   hashes, temp names, and what the attempt row will say;
6. write a temp file in the same folder, fsync, give it the original's
   permissions, compare the file once more, rename over it, fsync the folder;
7. check the file on disk with the same checker; if it fails, put the exact
   original bytes back the same atomic way and drop the intent;
8. when it passes, hand the intent over: it goes only once the attempt row is
   committed (`settle`, called by whoever records it).

A process killed anywhere in 5-8, or before the attempt row is committed,
leaves an intent that recovery (mechanic/write/recovery.py) resolves at the start of the next
cycle: the file keeps the validated new version, and the attempt is recorded
from the intent if it was not; or it gets its original bytes back. Temp files
and half-written backups go.

A backup is only ever read through `read_backup`: a regular file inside the
backup folder holding exactly the bytes its attempt says it holds.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from mechanic.detect.checkers.base import Checker, Finding
from mechanic.detect.discovery import Guard
from mechanic.errors import Refused
from mechanic.files import linediff, locks, private
from mechanic.files.atomic import fsync_dir, write_temp
from mechanic.files.hashing import sha256
from mechanic.files.names import fit
from mechanic.files.userfile import NotRegularFile, open_regular, read_regular
from mechanic.write import journal, pending
from mechanic.write.gate import WriteGate


@dataclass(frozen=True)
class TxResult:
    outcome: str  # applied | reverted | rejected | skipped | pending (review mode)
    reason: str
    backup_path: Path | None = None
    diff: str | None = None
    old_sha: str | None = None
    new_sha: str | None = None
    # An applied write's intent, kept until its attempt row is committed: the
    # recorder calls settle(backup_dir, intent) right after the commit.
    intent: str | None = None


@dataclass(frozen=True)
class Checked:
    """Bytes for `target` that passed `checker` in memory. Only `check` makes
    one, and the transaction writes exactly `data`: what was checked is what is
    written, so a caller that checked first (to judge the fix further before
    writing) does not have the checker run twice."""

    target: Path
    data: bytes
    checker: Checker


def check(target: Path, fixed: bytes, checker: Checker) -> Checked | Finding:
    """Run `checker` once on the bytes about to be written: a Checked to hand to
    `apply_fix`, or the Finding that says why they may never be written."""
    problem = checker.check_source(target, fixed)
    return Checked(target, fixed, checker) if problem is None else problem


def refused_by_check(checker: Checker, problem: Finding) -> str:
    return (
        f"the fix fails the {checker.language} check ({_short(problem)});"
        " it was never written and the original is kept"
    )


def unified_diff(path: Path, old: bytes, new: bytes) -> str:
    old_lines = old.decode("utf-8", "replace").splitlines(keepends=True)
    new_lines = new.decode("utf-8", "replace").splitlines(keepends=True)
    return "".join(linediff.unified_diff(old_lines, new_lines, f"a/{path.name}", f"b/{path.name}"))


def replace_atomic(target: Path, data: bytes, *, expected: bytes | None, temp: Path) -> None:
    """Replace `target` with `data` so readers see the old or the new bytes,
    never a mix. With `expected`, refuse unless the file still holds it.
    `temp` is the name the journal recorded for this write."""
    info = os.stat(target)
    try:
        write_temp(temp, data, info.st_mode & 0o7777)
        with contextlib.suppress(PermissionError, AttributeError):
            os.chown(temp, info.st_uid, info.st_gid)
        if expected is None:
            os.replace(temp, target)
        else:
            _replace_unless_saved(target, temp, data, expected)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    fsync_dir(target.parent)


def _replace_unless_saved(target: Path, temp: Path, data: bytes, expected: bytes) -> None:
    """Rename `temp` over `target` unless a person saved it. People first: the last
    look is the step right before the rename; and a save that opened the file in
    between writes into the very inode the rename unlinks, where its bytes would
    vanish. So that inode stays open across the rename and is read again after
    it: a save found there is put back under the name, and the write is refused."""
    try:
        old = open_regular(target)
    except NotRegularFile as exc:
        raise Refused(f"changed by someone since it was read: now {exc.strerror}") from None
    with old:
        if old.read() != expected:
            raise Refused("changed by someone since it was read")
        os.replace(temp, target)
        old.seek(0)
        if old.read() == expected:
            return
        theirs = _settled(old)
    # Their bytes go back only over ours: a later save by name stands as it is.
    with contextlib.suppress(Refused, OSError):
        replace_atomic(target, theirs, expected=data, temp=temp)
    raise Refused("changed by someone while it was written: their save is kept")


def _settled(handle: BinaryIO, *, quiet: float = 0.05, limit: float = 2.0) -> bytes:
    """The bytes of an open file once nobody has written to it for `quiet` seconds
    (a save may be half done when first seen), or once `limit` has passed."""
    deadline = time.monotonic() + limit
    while True:
        before = os.fstat(handle.fileno())
        handle.seek(0)
        seen = handle.read()
        time.sleep(quiet)
        after = os.fstat(handle.fileno())
        unchanged = (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns)
        if unchanged or time.monotonic() > deadline:
            return seen


def _reread(target: Path) -> bytes:
    # A path swapped for a FIFO, device or folder is someone's change too: never
    # read (which could block for ever), never replaced, and said so.
    try:
        return read_regular(target)
    except NotRegularFile as exc:
        raise Refused(f"changed by someone since it was read: now {exc.strerror}") from None


def write_backup(target: Path, data: bytes, backup_dir: Path) -> Path:
    """A new backup file holding `data`; never overwrites an existing one. It gets
    the permissions of `target` (a copy of a 0600 file is 0600), in a folder
    created 0700."""
    private.make_folder(backup_dir)
    try:
        # Never wider than the original; the owner keeps read and write so the
        # backup can be restored and removed.
        mode = stat.S_IMODE(os.stat(target).st_mode) & 0o777 | 0o600
    except OSError:
        mode = private.FILE_MODE
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    # A name may have 255 bytes: a long one is cut to leave room for the rest.
    base = f"{fit(target.name, 200)}.{stamp}.{sha256(data)[:8]}"
    # Written under a private name, then linked to its final name: a full disk
    # or a crash never leaves a truncated file that looks like a backup. The
    # part is locked while written, so recovery removes only a dead writer's.
    part = backup_dir / f".{base}.{os.getpid()}.part"
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            locks.take(fd)
            os.fchmod(fd, mode)
            handle.write(data)
            handle.flush()
            os.fsync(fd)
            for counter in range(1000):
                path = backup_dir / (f"{base}.bak" if counter == 0 else f"{base}.{counter}.bak")
                try:
                    os.link(part, path)
                except FileExistsError:
                    continue
                except OSError:  # a filesystem without hard links: claim the name, then fill it
                    write_temp(path, data, mode)
                fsync_dir(backup_dir)
                return path
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
    raise OSError(f"no free backup name for {target.name} in {backup_dir}")


def read_backup(
    backup: Path, backup_dir: Path, expected_sha: str | None, *, what: str = "backup"
) -> bytes:
    """The bytes of `backup` (a backup, or the `what` named: a pending patch), only
    if it is a regular file inside `backup_dir` (links and `..` resolved) holding
    exactly the bytes whose hash is `expected_sha`. Raises Refused saying which of
    these it is not: one that was altered, swapped for a link to another file, or
    for a FIFO or a device, is never written into a user's file."""
    if not expected_sha:
        raise Refused(f"the record does not say which bytes the {what} {backup} must hold")
    folder = os.path.realpath(backup_dir)
    real = os.path.realpath(backup)
    if os.path.commonpath([folder, real]) != folder or real == folder:
        raise Refused(f"the {what} {backup} is not inside the backup folder {backup_dir}")
    try:
        # Looked at before it is opened (a device is never opened), and again once
        # open: the object read is the one checked.
        if not stat.S_ISREG(mode := os.stat(real).st_mode):
            raise NotRegularFile(real, mode)
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise Refused(f"cannot read the {what} {backup}: {exc.strerror or exc}") from exc
    try:
        if not stat.S_ISREG(mode := os.fstat(fd).st_mode):
            raise NotRegularFile(real, mode)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    except OSError as exc:
        raise Refused(f"cannot read the {what} {backup}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if sha256(data) != expected_sha:
        held = "the original bytes" if what == "backup" else "the bytes it was made with"
        raise Refused(
            f"the {what} {backup} does not hold {held} (its hash differs):"
            " it was changed since it was written"
        )
    return data


def settle(backup_dir: Path, intent: str | None) -> None:
    """An applied write's attempt row is committed: its intent can go."""
    if intent:
        journal.settle(journal.intents_dir(backup_dir), intent)


def apply_fix(
    target: Path,
    *,
    original: bytes,
    fixed: bytes | Checked,
    checker: Checker,
    backup_dir: Path,
    guard: Guard,
    validate: Callable[[bytes], str | None] | None = None,
    review: bool = False,
    attempt: Mapping[str, Any] | None = None,
    gate: WriteGate | None = None,
) -> TxResult:
    """Write `fixed` over `target` (which must still hold `original`) if and only
    if it passes `checker` (and `validate`, which returns a problem or None);
    see the module docstring for the sequence. `fixed` already `check`ed (a
    Checked for this target and checker) is not checked again in memory. With
    `review` a fix that would be written is kept as a pending patch instead:
    outcome "pending", nothing written. `gate` is the daemon's stop and veto
    (mechanic/write/gate.py); without one, nothing can stop this write but
    its own checks. Callers go through mechanic/write/writer.py, which passes
    all of these from one place.

    `attempt` is what the attempt row will say (an AttemptRecord's fields: path,
    language, error, rung, backend, model...), kept in the intent so that
    recovery can record the fix should this process die before its caller
    does. An "applied" result carries its `intent`: the caller records the
    attempt with it, then calls `settle`."""
    data = fixed.data if isinstance(fixed, Checked) else fixed
    old_sha, new_sha = sha256(original), sha256(data)
    if refusal := guard.refusal(target):
        return TxResult("skipped", f"{refusal}: never written", old_sha=old_sha)
    if not (isinstance(fixed, Checked) and fixed.target == target and fixed.checker is checker):
        checked = check(target, data, checker)
        if isinstance(checked, Finding):
            return TxResult(
                "reverted", refused_by_check(checker, checked), old_sha=old_sha, new_sha=new_sha
            )
    if validate is not None:
        try:
            refused = validate(data)
        except Exception as exc:  # a validator that breaks cannot vouch for the fix
            refused = f"validation failed to run: {type(exc).__name__}: {exc}"
        if refused is not None:
            return TxResult(
                "rejected",
                f"{refused}; the fix was never written",
                old_sha=old_sha,
                new_sha=new_sha,
            )
    # A stopping daemon starts no write (and waits for one under way to end); a
    # file protected by a config edit since the cycle began is not written.
    with (gate or WriteGate()).entered(target) as refusal:
        if refusal is not None:
            return TxResult("skipped", refusal, old_sha=old_sha)
        return _write_fix(
            target,
            original=original,
            fixed=data,
            checker=checker,
            backup_dir=backup_dir,
            hold=review,
            attempt=attempt,
        )


def _write_fix(
    target: Path,
    *,
    original: bytes,
    fixed: bytes,
    checker: Checker,
    backup_dir: Path,
    hold: bool = False,
    attempt: Mapping[str, Any] | None = None,
) -> TxResult:
    """The writing half of apply_fix, once the fix has passed every check in memory."""
    old_sha, new_sha = sha256(original), sha256(fixed)
    try:
        if not os.stat(target).st_mode & 0o222:
            # Someone made it read-only; renaming over it would ignore that.
            return TxResult("skipped", "read-only file: not written", old_sha=old_sha)
        if _reread(target) != original:
            return TxResult("skipped", "changed by someone since it was read", old_sha=old_sha)
    except Refused as exc:
        return TxResult("skipped", f"{exc}; left alone", old_sha=old_sha)
    except OSError as exc:
        return TxResult("skipped", f"cannot read the file again: {exc}", old_sha=old_sha)
    if hold:  # review mode: everything a write needs is settled; a person decides
        try:
            pending.keep(fixed, new_sha, backup_dir)
        except OSError as exc:
            return TxResult("skipped", f"the fix could not be kept for review: {exc}")
        return TxResult(
            "pending",
            "validated; kept for review, not written (mechanic pending)",
            diff=unified_diff(target, original, fixed),
            old_sha=old_sha,
            new_sha=new_sha,
        )
    try:
        backup = write_backup(target, original, backup_dir)
    except OSError as exc:
        return TxResult("skipped", f"backup could not be written, nothing applied: {exc}")
    diff = unified_diff(target, original, fixed)
    try:
        intent = journal.begin(
            journal.intents_dir(backup_dir),
            {
                "target": str(target),
                "backup": str(backup),
                "old_sha": old_sha,
                "new_sha": new_sha,
                "language": checker.language,
                "phase": "apply",
                "attempt": _draft(attempt),
            },
        )
    except OSError as exc:
        return TxResult("skipped", f"the intent could not be recorded, nothing applied: {exc}")
    try:
        result = _write_and_verify(target, original, fixed, checker, intent, backup, diff)
    except BaseException:
        intent.close()
        raise
    if result.outcome != "applied":
        intent.close()
        return result
    # On disk and checked: the intent now waits for the attempt row (settle).
    return dataclasses.replace(result, intent=intent.hand_over())


def _draft(attempt: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The JSON-safe part of the attempt-to-be (its own id and verdict are not known yet)."""
    if attempt is None:
        return None
    skip = {"id", "outcome", "reason", "backup_path", "diff", "old_sha", "new_sha", "undone_at"}
    return {
        key: value
        for key, value in attempt.items()
        if key not in skip and (value is None or isinstance(value, (str, int, float, bool)))
    }


def _write_and_verify(
    target: Path,
    original: bytes,
    fixed: bytes,
    checker: Checker,
    intent: journal.OpenIntent,
    backup: Path,
    diff: str,
) -> TxResult:
    old_sha, new_sha = intent.intent.old_sha, intent.intent.new_sha
    try:
        replace_atomic(target, fixed, expected=original, temp=intent.intent.temp(0))
    except Refused as exc:
        return TxResult("skipped", f"{exc}; left alone", backup, old_sha=old_sha)
    except OSError as exc:
        return TxResult("skipped", f"cannot write the file: {exc}", backup, old_sha=old_sha)
    try:
        on_disk = checker.check_files([target]).get(target, "unreadable by its checker")
    except Exception as exc:  # a checker that dies cannot vouch for the write
        on_disk = f"the checker failed: {exc}"
    if on_disk is None:
        return TxResult("applied", "passes the check", backup, diff, old_sha, new_sha)
    intent.mark("revert")
    restored = _restore_if_ours(target, original, fixed, intent.intent.temp(1))
    return TxResult(
        "reverted",
        f"the written file fails the {checker.language} check"
        f" ({on_disk if isinstance(on_disk, str) else _short(on_disk)});"
        + (
            " the original bytes were restored"
            if restored
            else " someone changed it since the write: left as it is"
        ),
        backup,
        diff,
        old_sha,
        new_sha,
    )


def _restore_if_ours(target: Path, original: bytes, ours: bytes, temp: Path) -> bool:
    """Whether the original is back. Only our own write is undone: if a person
    saved in between (or swapped in a FIFO, a folder...), theirs stands."""
    try:
        replace_atomic(target, original, expected=ours, temp=temp)
    except Refused:
        return False
    return True


def restore_backup(
    target: Path,
    *,
    backup: Path,
    expected: bytes,
    guard: Guard,
    backup_dir: Path,
    original_sha: str | None,
    undoes: int | None = None,
) -> str | None:
    """Put a backup's bytes back over `target`, refusing unless `target` still
    holds `expected` (the fix mechanic wrote) and the backup passes `read_backup`
    (inside `backup_dir`, a regular file, holding the bytes `original_sha` names).
    Raises Refused with the reason.

    With `undoes` (the attempt this takes back), returns the intent, kept until
    the caller has marked that attempt undone and called `settle`: a process
    killed in between leaves recovery to mark it."""
    if guard.is_protected(target):
        raise Refused(f"{target} is protected: never written")
    try:
        current = read_regular(target)
    except OSError as exc:
        raise Refused(f"cannot read {target}: {exc.strerror or exc}") from exc
    if current != expected:
        raise Refused(f"{target} changed since the fix was applied; it is left as it is")
    data = read_backup(backup, backup_dir, original_sha)
    try:
        intent = journal.begin(
            journal.intents_dir(backup_dir),
            {
                "target": str(target),
                "backup": str(backup),
                "old_sha": sha256(expected),
                "new_sha": sha256(data),
                "language": None,
                "phase": "restore",
                "undoes": undoes,
            },
        )
    except OSError as exc:
        raise Refused(f"the intent could not be recorded, nothing restored: {exc}") from exc
    try:
        replace_atomic(target, data, expected=expected, temp=intent.intent.temp(0))
    except BaseException:
        intent.close()
        raise
    if undoes is None:
        intent.close()
        return None
    return intent.hand_over()


def _short(finding: Finding) -> str:
    where = f"line {finding.line}: " if finding.line else ""
    return f"{where}{finding.message}"


def restore_version(
    target: Path,
    *,
    current: bytes,
    good: bytes,
    checker: Checker,
    backup_dir: Path,
    guard: Guard,
    attempt: Mapping[str, Any] | None = None,
    gate: WriteGate | None = None,
) -> TxResult:
    """Bring back a file's last good version, on a person's request (`mechanic
    restore`). The same sequence as a fix: the good version must pass the check,
    the current bytes are backed up first (a truncated file may still hold work),
    and the write is atomic and checked on disk, so `mechanic revert` undoes it."""
    if good == current:
        return TxResult("skipped", "the file already holds its last good version")
    # A person asked for it: review mode does not hold it back.
    return apply_fix(
        target,
        original=current,
        fixed=good,
        checker=checker,
        backup_dir=backup_dir,
        guard=guard,
        review=False,
        attempt=attempt,
        gate=gate,
    )
