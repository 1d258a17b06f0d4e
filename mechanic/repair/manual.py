"""What a person asks for by hand: accept or reject a fix kept for review,
revert an applied one, restore a file's good version.

Each is one function the CLI calls. It takes the cycle lock where it writes, goes
through a Writer (the only writer) and puts what it did on the record the
way a cycle does (`repair.record`). What cannot be done raises NotDone, whose
message says why; nothing is written then.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from mechanic.config.settings import Config
from mechanic.detect.checkers import CheckerSet, language_of
from mechanic.errors import NotDone, Refused
from mechanic.files.hashing import sha256
from mechanic.files.locks import cycle_lock
from mechanic.files.names import shown
from mechanic.files.userfile import read_regular
from mechanic.repair.baseline import git_head_version
from mechanic.repair.ladder import record_revert, refuse
from mechanic.repair.record import new_attempt, record_attempt
from mechanic.store import AttemptRecord, Patch, Store
from mechanic.write import review
from mechanic.write.writer import Writer
from probes.remediation import FixAction, run_on_fix

log = structlog.get_logger("mechanic.cli")


def unknown_id(store: Store, what: str, number: int) -> str:
    """Why `number` names no attempt (or patch): when it is below this store's
    first ID, it was handed out by the store this one replaced."""
    text = f"no {what} #{number} in this store"
    if 0 < number <= store.id_floor:
        text += (
            f": its IDs start at {store.id_floor + 1}, since it replaced an older store;"
            f" #{number} belonged to that one (kept aside in {shown(store.path.parent)})"
        )
    return text


def _read_or_empty(path: Path) -> bytes:
    try:
        return read_regular(path)
    except OSError:
        return b""


# --- review mode -------------------------------------------------------------


@dataclass
class Accepted:
    """What `accept` did: the attempt it recorded, and the on_fix actions that
    followed an applied fix."""

    record: AttemptRecord
    actions: list[FixAction] = field(default_factory=list)


def accept(config: Config, store: Store, patch_id: int) -> Accepted:
    """Apply pending patch `patch_id` through the transaction and record it like
    a cycle's fix (git commit, cooldown); an applied patch is decided and its
    root's on_fix follows. The record says when the fix was not applied."""
    with cycle_lock(config.mechanic.state_dir):
        if store.pending_patch(patch_id) is None:
            raise NotDone(unknown_id(store, "pending patch", patch_id))
        writer = Writer.for_config(config, review=False)  # a person decided: it is written
        record = review.accept(config, store, patch_id, writer)  # or ReviewError: nothing tried
        record_attempt(config, store, record, writer=writer)
        done = Accepted(record)
        if record.outcome == "applied":
            patch = store.pending_patch(patch_id)
            assert patch is not None  # under the cycle lock, nothing decided it since
            store.decide_pending(patch_id, "accepted", record.id)
            review.drop_bytes(store, patch)
            # An accepted fix is applied like a cycle's: its root's on_fix follows.
            done.actions = run_on_fix(config, [record.path])
            for action in done.actions:
                store.record_fix_action(None, action)
    log.info(f"repair.{record.outcome}", file=record.path, attempt=record.id, patch=patch_id)
    return done


def reject(store: Store, patch_id: int, *, stale: bool = False) -> Patch:
    """Drop pending patch `patch_id` (see review.reject): its content is not
    attempted again by itself. Returns the patch's row."""
    if store.pending_patch(patch_id) is None:
        raise NotDone(unknown_id(store, "pending patch", patch_id))
    patch = review.reject(store, patch_id, stale=stale)  # or ReviewError: nothing dropped
    # Turned down by a person: this content is not attempted again by itself.
    current = _read_or_empty(Path(patch.path))
    refuse(
        store,
        path=patch.path,
        language=patch.language,
        old_sha=patch.old_sha,
        original=current if sha256(current) == patch.old_sha else None,
        fixed=_read_or_empty(Path(patch.fix_path)) or None,
        how="rejected",
        attempt_id=patch.attempt_id,
        rung=None,
    )
    review.drop_bytes(store, patch)
    return patch


# --- revert / restore --------------------------------------------------------


def revert(config: Config, store: Store, attempt_id: int) -> AttemptRecord:
    """Put back the bytes applied attempt `attempt_id` replaced, when the file
    still holds exactly what it wrote; its content is then never fixed again by
    itself (memory, examples, rungs). Returns the attempt, marked undone."""
    attempt = store.attempt(attempt_id)
    if attempt is None:
        raise NotDone(unknown_id(store, "attempt", attempt_id))
    if attempt.outcome != "applied" or not attempt.backup_path:
        raise NotDone(f"attempt #{attempt.id} was {attempt.outcome}: nothing to revert")
    if attempt.undone_at:
        raise NotDone(f"attempt #{attempt.id} was already reverted")
    target = Path(attempt.path)
    writer = Writer.for_config(config, review=False)  # a person asked for it
    try:
        current = read_regular(target)
    except OSError as exc:
        raise NotDone(f"cannot read {shown(target)}: {exc.strerror}") from exc
    if sha256(current) != attempt.new_sha:
        raise NotDone(
            f"{shown(target)} does not hold what attempt #{attempt.id} wrote"
            " (it changed since, or the ID is not the one you mean); it is left as it is"
        )
    try:
        intent = writer.restore_backup(
            target,
            backup=Path(attempt.backup_path),
            expected=current,
            original_sha=attempt.old_sha,
            undoes=attempt.id,
        )
    except Refused as exc:  # the person asked for a revert: say it was not done
        raise Refused(f"not reverted: {exc}") from None
    # Taken back by a person: never re-applied by itself (memory, examples, rungs).
    record_revert(store, attempt, restored=_read_or_empty(target), fixed=current)
    writer.settle(intent)
    log.info("repair.undone", attempt=attempt.id, file=str(target))
    return attempt


@dataclass
class Restored:
    """What `restore` did: its attempt (applied, or why not) and which good
    version it put back."""

    record: AttemptRecord
    source: str
    reason: str  # the transaction's word (the record's may add the git commit's)


def restore(config: Config, file: str | Path) -> Restored:
    """Put back `file`'s last good version (or its version at git HEAD) through
    the transaction, checked like a fix, and record it as an attempt of rung
    "restore" in the config's store. Raises NotDone when there is nothing it may
    or can restore (a protected file is refused before the store is opened)."""
    path = Path(file).expanduser().absolute()
    real = Path(os.path.realpath(path))
    writer = Writer.for_config(config, review=False)  # a person asked for it
    language = language_of(real)
    if writer.guard.is_protected(path) or language is None:
        why = "is protected or outside every watch root" if language else "has no checker"
        raise NotDone(f"{shown(path)} {why}: not restored")
    with (
        Store.open(config.mechanic.state_dir) as store,
        cycle_lock(config.mechanic.state_dir),
        CheckerSet(node=config.mechanic.node) as checkers,
    ):
        found = store.good_version(str(real))
        good, source = (found[1], "last good version") if found else (None, "")
        if good is None:
            good, source = git_head_version(real), "version at git HEAD"
        if good is None:
            raise NotDone(f"no good version of {shown(path)} is known")
        try:
            current = read_regular(real)
        except OSError as exc:
            raise NotDone(f"cannot read {shown(path)}: {exc.strerror}") from exc
        record = new_attempt(
            real,
            language,
            f"restore of its {source} requested",
            old_sha=sha256(current),
            rung="restore",
        )
        result = writer.restore_version(
            real,
            current=current,
            good=good,
            checker=checkers.get(language),
            attempt=record.to_dict(),
        )
        record.outcome, record.reason = result.outcome, result.reason
        record.backup_path = str(result.backup_path) if result.backup_path else None
        record.diff, record.new_sha, record.intent = result.diff, result.new_sha, result.intent
        record_attempt(config, store, record, writer=writer)
        if result.outcome == "applied":
            store.clear_needs_person(str(real))
    log.info("restore." + result.outcome, file=str(real), reason=result.reason, attempt=record.id)
    return Restored(record, source, result.reason)
