"""The memory rung: the same error in the same code was fixed before; reuse
that patch, asking no model (0 tokens)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from mechanic.repair.rungs.base import NotApplicable, Proposal
from mechanic.store import AttemptRecord, Store

if TYPE_CHECKING:  # Work is only named in annotations: no import cycle through validate
    from mechanic.repair.validate import Work

MEMORY_NEAR = 5  # a remembered fix applies only this close to the error's line


class MemoryRung:
    name: Literal["memory"] = "memory"

    def __init__(self, store: Store) -> None:
        self.store = store

    def attempt(self, work: Work, record: AttemptRecord) -> Proposal | None:
        assert record.signature is not None
        error_at = (work.finding.line or 1) - 1
        for remembered in self.store.remembered_fixes(work.finding.language, record.signature):
            before, after = remembered.before, remembered.after
            at = work.text.find(before)
            if at < 0 or work.text.count(before) != 1:
                continue
            first = work.text.count("\n", 0, at)
            last = first + before.count("\n")
            # Only where the error is: the same code elsewhere in the file is not the fault.
            if work.finding.line is None or first - MEMORY_NEAR <= error_at <= last + MEMORY_NEAR:
                record.prompt_tokens, record.answer_tokens = 0, 0
                return Proposal(
                    work.text.replace(before, after),
                    note=f"reuses the fix of attempt #{remembered.attempt_id}",
                )
        raise NotApplicable("no remembered fix for this error in this code")
