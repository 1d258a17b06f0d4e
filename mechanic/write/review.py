"""Review mode: a validated fix is kept for a person instead of written.

With `[mechanic] apply = "review"`, the transaction stops right before the
backup: the fix has passed every check, the file still holds the bytes it was
made from, and instead of writing, the fixed bytes go to
`<backup_dir>/pending/<sha256>.fix` and the attempt is recorded as `pending`.
`mechanic pending` lists them with their diffs; `mechanic accept ID` applies one
through the same transaction (refused if the file changed since); `mechanic
reject ID` drops it.

The mode is one field of the cycle's Writer (mechanic/write/writer.py), built
from the config: every rung writes through it, so every rung honours it
without knowing. The bytes are kept by mechanic/write/pending.py.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from mechanic.detect.checkers import CheckerSet
from mechanic.errors import Refused, ReviewError
from mechanic.files.hashing import sha256
from mechanic.files.names import shown
from mechanic.files.userfile import read_regular
from mechanic.store import AttemptRecord, Patch
from mechanic.write.transaction import read_backup
from mechanic.write.writer import Writer


def accept(config, store, patch_id: int, writer: Writer | None = None) -> AttemptRecord:
    """Apply pending patch `patch_id` through `writer` (by default one built
    from `config`, review off: a person decided); returns the attempt record
    (outcome `applied`, or why not). Raises ReviewError when the patch cannot
    even be tried."""

    patch = _open_patch(store, patch_id)
    target = Path(patch.path)
    try:
        current = read_regular(target)
    except OSError as exc:
        raise ReviewError(f"cannot read {target}: {exc.strerror or exc}") from exc
    if sha256(current) != patch.old_sha:
        raise ReviewError(
            f"{target} changed since patch #{patch_id} was made; it is left as it is"
            f" (reject the patch with `mechanic reject {patch_id}`)"
        )
    try:  # like a backup: a regular file in the backup folder, holding the hash it should
        fixed = read_backup(
            Path(patch.fix_path),
            config.mechanic.backup_dir,
            patch.new_sha,
            what="pending patch",
        )
    except Refused as exc:
        raise ReviewError(f"patch #{patch_id} cannot be applied: {exc}") from exc
    origin = store.attempt(patch.attempt_id) if patch.attempt_id else None
    record = AttemptRecord(
        path=str(target),
        language=patch.language,
        error=patch.error,
        outcome="skipped",
        backend=origin.backend if origin else None,
        model=origin.model if origin else None,
        started_at=time.time(),
    )
    if writer is None:
        writer = Writer.for_config(config, review=False)  # a person decided: it is written
    with CheckerSet(node=config.mechanic.node) as checkers:
        result = writer.apply(
            target,
            original=current,
            fixed=fixed,
            checker=checkers.get(patch.language),
            attempt=record.to_dict(),
        )
    record.outcome = result.outcome
    record.intent = result.intent  # settled by the caller once the row is committed
    record.reason = f"accepted patch #{patch_id}: {result.reason}"
    record.backup_path = str(result.backup_path) if result.backup_path else None
    record.diff, record.old_sha, record.new_sha = result.diff, result.old_sha, result.new_sha
    return record


def reject(store, patch_id: int, *, stale: bool = False) -> Patch:
    """Drop pending patch `patch_id`. Refused when its file no longer holds the
    bytes the patch was made from, unless `stale`: then the ID may not name the
    patch the person means (they look at the file as it is now)."""
    patch = _open_patch(store, patch_id)
    if not stale:
        target = Path(patch.path)
        try:  # a FIFO (or other non-file) put in its place is refused, never opened
            current = sha256(read_regular(target))
        except OSError:
            current = None
        if current != patch.old_sha:
            raise ReviewError(
                f"{shown(patch.path)} no longer holds the version patch #{patch_id} was made"
                f" from, so #{patch_id} may not be the patch you mean; `mechanic pending` shows"
                f" it, and `mechanic reject {patch_id} --stale` drops it anyway"
            )
    store.decide_pending(patch_id, "rejected")
    return patch


def drop_bytes(store, patch: Patch) -> None:
    """Remove a decided patch's bytes unless another pending patch shares them."""
    others = [p for p in store.pending() if p.fix_path == patch.fix_path]
    if not others:
        with contextlib.suppress(OSError):
            Path(patch.fix_path).unlink()


def _open_patch(store, patch_id: int) -> Patch:
    patch = store.pending_patch(patch_id)
    if patch is None:
        raise ReviewError(f"no pending patch #{patch_id}")
    if patch.status != "pending":
        raise ReviewError(f"patch #{patch_id} was already {patch.status}")
    origin = store.attempt(patch.attempt_id) if patch.attempt_id else None
    if origin is not None and (origin.path, origin.new_sha) != (patch.path, patch.new_sha):
        raise ReviewError(
            f"patch #{patch_id} does not match the attempt #{origin.id} it names in this store;"
            " nothing done"
        )
    return patch
