"""The whole rung: the model sees the whole file (seed 003's protocol), only
when the file and its answer fit comfortably in its context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from mechanic.repair.answer import code_from_answer
from mechanic.repair.backends.base import Backend
from mechanic.repair.prompt import DoesNotFit, build_whole_file_prompt
from mechanic.repair.rungs.base import NotApplicable, Proposal, ask, examples
from mechanic.store import AttemptRecord, Store

if TYPE_CHECKING:  # Work is only named in annotations: no import cycle through validate
    from mechanic.repair.validate import Work

# The file and its answer must fit in this share of the context.
WHOLE_COMFORT = 0.75


class WholeRung:
    name: Literal["whole"] = "whole"

    def __init__(self, backend: Backend, store: Store) -> None:
        self.backend = backend
        self.store = store

    def attempt(self, work: Work, record: AttemptRecord) -> Proposal | None:
        try:
            prompt = build_whole_file_prompt(
                name=work.chosen.file.rel,
                code=work.text,
                finding=work.finding,
                context_tokens=self.backend.context_tokens(),
                count_tokens=self.backend.count_tokens,
                examples=examples(self.store, work),
                comfort=WHOLE_COMFORT,
            )
        except DoesNotFit as exc:
            raise NotApplicable(str(exc)) from None
        completion = ask(self.backend, work, record, prompt, rung=self.name, where="the whole file")
        code = code_from_answer(completion.text, work.text, done_reason=completion.done_reason)
        return Proposal(code)
