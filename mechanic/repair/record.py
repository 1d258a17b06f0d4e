"""The record of an attempt: one constructor builds it, one function puts it on
the record, for every path that writes one (the cycle's rungs, `accept`,
`restore`, recovery of a killed run).

Putting an attempt on the record is: its store row (a fix the store cannot
record is taken back, so no write goes unrecorded), then the intent settles,
then the git commit of an applied fix (`git_commit = true`), the pending patch
of a fix kept for review, and the cooldown: cleared by an applied fix, set after
a rung of the ladder tried and failed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

import structlog

from mechanic.config.settings import Config
from mechanic.errors import Refused, StoreError
from mechanic.files.hashing import sha256
from mechanic.files.userfile import read_regular
from mechanic.kinds import AttemptRung, Outcome, RungName
from mechanic.store import AttemptRecord, Store
from mechanic.write import gitcommit, pending
from mechanic.write.writer import Writer

log = structlog.get_logger("mechanic.record")

_FIELDS = {f.name for f in dataclasses.fields(AttemptRecord)} - {"id", "undone_at"}
_LADDER_RUNGS = frozenset(get_args(RungName))


def new_attempt(
    path: str | Path,
    language: str,
    error: str,
    *,
    outcome: Outcome = "skipped",
    reason: str = "",
    rung: AttemptRung | None = None,
    **fields: Any,
) -> AttemptRecord:
    """An attempt on `path` starting now (`started_at`), `skipped` until it ends."""
    fields.setdefault("started_at", time.time())
    return AttemptRecord(
        path=str(path),
        language=language,
        error=error,
        outcome=outcome,
        reason=reason,
        rung=rung,
        **fields,
    )


def attempt_from(row: Mapping[str, Any]) -> AttemptRecord:
    """An attempt from the fields a transaction carried in its intent (recovery):
    what an older mechanic wrote there, and no more."""
    kept = {k: v for k, v in row.items() if k in _FIELDS}
    path, language, error = kept.pop("path"), kept.pop("language"), kept.pop("error")
    return new_attempt(path, language, error, **kept)


def record_attempt(
    config: Config, store: Store, record: AttemptRecord, *, writer: Writer
) -> AttemptRecord:
    """Put `record` on the record (see the module's docstring); returns it, with
    its id, and the git commit's word added to its reason. `writer` is the one
    that wrote the fix (its intent settles, its git_commit decides the commit).
    Raises StoreError when the store cannot write the row (an applied fix is
    taken back first)."""
    settings = config.mechanic
    try:
        store.record_attempt(record)
    except StoreError:
        if record.outcome == "applied":
            _take_back(record, writer)  # a store that fails touches no file
        raise
    writer.settle(record.intent)  # on the record: the intent goes
    if record.outcome == "applied" and writer.git_commit:
        record.reason += f"; {gitcommit.commit_fix(record, config)}"
        assert record.id is not None
        store.set_attempt_reason(record.id, record.reason)
    if record.outcome == "pending":
        patch = store.add_pending(
            record, pending.fix_path(settings.backup_dir, record.new_sha or "")
        )
        log.info("repair.kept_for_review", file=record.path, patch=patch)
    if record.outcome == "applied":
        # A fix is no reason to wait: content that breaks after it is new content.
        store.clear_cooldown(record.path)
    elif _tried(record) and settings.file_cooldown_hours > 0:
        store.set_cooldown(
            record.path,
            time.time() + settings.file_cooldown_hours * 3600,
            record.id,
            sha256=record.old_sha,
            signature=record.signature,
        )
    return record


def _tried(record: AttemptRecord) -> bool:
    """A rung of the ladder tried this content (a model was asked, or a fix was
    judged): it waits out the cooldown. A person's accept or restore does not."""
    asked = record.prompt_tokens is not None or record.outcome != "skipped"
    return asked and record.rung in _LADDER_RUNGS


def _take_back(record: AttemptRecord, writer: Writer) -> None:
    """Put back the original of a fix the store could not record, so that no
    write goes unrecorded (and `mechanic revert` never misses one)."""
    target = Path(record.path)
    try:
        current = read_regular(target)
        if record.backup_path and sha256(current) == record.new_sha:
            writer.restore_backup(
                target,
                backup=Path(record.backup_path),
                expected=current,
                original_sha=record.old_sha,
            )
            # Nothing to record any more: the file holds its original bytes.
            writer.settle(record.intent)
            log.error("repair.taken_back", file=record.path, reason="the store failed")
    except (OSError, Refused) as exc:
        log.error("repair.take_back_failed", file=record.path, error=str(exc))
