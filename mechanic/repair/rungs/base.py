"""What every rung of the ladder is: a name and one method.

A rung looks at one file's work and proposes the whole new text, or says it has
nothing to offer (NotApplicable: nothing was asked, nothing is recorded). The
ladder validates and applies what it proposes, and records the attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import structlog

from mechanic.kinds import RungName
from mechanic.repair.backends.base import Backend, Completion
from mechanic.repair.prompt import Prompt, format_examples
from mechanic.store import AttemptRecord, Store

if TYPE_CHECKING:  # Work is only named in annotations: no import cycle through validate
    from mechanic.repair.validate import Work

log = structlog.get_logger("mechanic.ladder")

EXAMPLES = 2  # past fixes shown to a model


class NotApplicable(Exception):
    """The rung has nothing to offer for this file; nothing was asked."""


@dataclass
class Proposal:
    """A rung's answer: the file's whole new text, and a word on how it was made."""

    text: str
    note: str = ""


class Rung(Protocol):
    @property
    def name(self) -> RungName: ...

    def attempt(self, work: Work, record: AttemptRecord) -> Proposal | None:
        """The new text for `work`, its tokens put on `record`; None when the
        rung has nothing to say this time. Raises NotApplicable, Rejected (the
        answer is unusable) or BackendError."""
        ...


def ask(
    backend: Backend, work: Work, record: AttemptRecord, prompt: Prompt, *, rung: str, where: str
) -> Completion:
    """Send `prompt` for `work`; the tokens go on `record` (sent, even if it times out)."""
    log.info(
        "repair.ask",
        file=str(work.target),
        rung=rung,
        sent=where,
        error=record.error,
        model=backend.model,
        prompt_tokens=prompt.prompt_tokens,
    )
    record.prompt_tokens = prompt.prompt_tokens  # known sent, even if it times out
    completion = backend.complete(
        system=prompt.system, prompt=prompt.user, max_tokens=prompt.max_answer_tokens
    )
    if completion.prompt_tokens is not None:
        record.prompt_tokens = completion.prompt_tokens
    record.answer_tokens = completion.answer_tokens
    return completion


def examples(store: Store, work: Work) -> str:
    """Past fixes of this language near this file, for a model's prompt."""
    found = store.fix_examples(
        work.finding.language, str(work.target), str(work.chosen.file.root), EXAMPLES
    )
    return format_examples(found)
