"""Recovery: resolving every write a killed mechanic left unfinished, at the
start of the next cycle, from the intents the transaction recorded
(mechanic/write/journal.py). See mechanic/write/transaction.py for the sequence
whose interruption this resolves."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mechanic.detect.checkers.base import Checker
from mechanic.errors import Refused
from mechanic.files.hashing import sha256
from mechanic.files.userfile import read_regular
from mechanic.write import journal
from mechanic.write.transaction import read_backup, replace_atomic, unified_diff


@dataclass(frozen=True)
class Recovered:
    """How one interrupted write was resolved."""

    target: Path
    action: str  # kept-new | kept-original | restored | left | unreadable-intent
    reason: str
    # The attempt row a kept fix needs (an AttemptRecord's fields, with `intent`
    # naming it, so a row already committed is not recorded twice).
    attempt: dict[str, Any] | None = None
    undoes: int | None = None  # a revert that was done: this attempt is undone


def recover_interrupted(
    backup_dir: Path,
    checker_for: Callable[[str], Checker] | None = None,
    record: Callable[[Recovered], None] | None = None,
) -> list[Recovered]:
    """Resolve every write a killed mechanic left unfinished.

    The file keeps the new version only if it is byte for byte the validated
    fix (and, given `checker_for`, still passes its check on disk); if it holds
    the fix in any other case, the original bytes come back from the backup
    (only a backup `read_backup` accepts). A file holding anything else was
    saved by a person and is left alone. `record` is handed each resolution
    before its intent goes, so a kept fix gets its attempt row (`attempt`) and
    a finished revert its undo; if `record` raises, the intent stays for the
    next recovery and the error propagates. Temp files and the half-written
    backups of dead processes go. Safe to run at any time and to be killed
    itself: intents held by a live transaction are not touched.
    """
    folder = journal.intents_dir(backup_dir)
    results: list[Recovered] = []
    for item in journal.interrupted(folder):
        if isinstance(item, Path):
            item.rename(item.with_suffix(".unreadable"))
            results.append(Recovered(item, "unreadable-intent", "set aside: cannot be parsed"))
            continue
        for temp in item.temps():
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        resolved = _resolve(item, backup_dir, checker_for)
        if record is not None:
            record(resolved)  # on the record before the intent goes
        results.append(resolved)
        journal.discard(folder, item.id)
    for parts in (backup_dir, backup_dir / "pending"):
        journal.remove_stale_parts(parts)
    return results


def _resolve(
    intent: journal.Intent, backup_dir: Path, checker_for: Callable[[str], Checker] | None
) -> Recovered:
    target = Path(intent.target)
    try:
        on_disk = read_regular(target)
    except OSError as exc:
        return Recovered(target, "left", f"cannot read it: {exc.strerror or exc}")
    current = sha256(on_disk)
    if current == intent.old_sha:
        return Recovered(target, "kept-original", "the write never happened")
    if current != intent.new_sha:
        reason = "changed by someone: left as they saved it"
        if intent.written and intent.phase == "apply":  # the fix was on disk first
            return Recovered(target, "left", reason, _recovered_attempt(intent, None, reason))
        return Recovered(target, "left", reason)
    if intent.phase == "restore":
        reason = "the backup was already back in place"
        return Recovered(target, "kept-new", reason, undoes=intent.undoes)
    problem = None
    if intent.phase == "revert":
        problem = "it had failed its check on disk"
    elif checker_for is not None and intent.language:
        try:
            verdict = checker_for(intent.language).check_files([target]).get(target, "unread")
        except Exception as exc:  # a checker that cannot vouch means no
            verdict = f"the checker failed: {exc}"
        if verdict is not None:
            problem = "it fails its check on disk"
    backup = Path(intent.backup or "")
    if problem is None:
        try:
            diff = unified_diff(target, read_backup(backup, backup_dir, intent.old_sha), on_disk)
        except Refused:
            diff = None  # the fix is kept and recorded all the same; revert will say why not
        reason = "holds the validated fix"
        return Recovered(target, "kept-new", reason, _recovered_attempt(intent, diff, reason))
    try:
        data = read_backup(backup, backup_dir, intent.old_sha)
    except Refused as exc:
        return Recovered(target, "left", f"{problem}, but {exc}")
    temp = target.parent / f".{target.name[:80]}.{intent.id}.r{journal.TEMP_SUFFIX}"
    try:
        replace_atomic(target, data, expected=on_disk, temp=temp)
    except (OSError, Refused) as exc:
        return Recovered(target, "left", f"{problem}; restoring failed: {exc}")
    return Recovered(target, "restored", f"{problem}: original bytes restored")


def _recovered_attempt(intent: journal.Intent, diff: str | None, state: str) -> dict[str, Any]:
    """The attempt row of a fix whose process died before recording it."""
    fields = dict(intent.attempt or {})
    fields.update(
        path=intent.target,
        language=fields.get("language") or intent.language or "unknown",
        error=fields.get("error") or "(not recorded: mechanic stopped first)",
        outcome="applied",
        reason=f"passes the check; recorded on recovery, mechanic stopped first ({state})",
        backup_path=intent.backup,
        diff=diff,
        old_sha=intent.old_sha,
        new_sha=intent.new_sha,
        intent=intent.id,
    )
    return fields
