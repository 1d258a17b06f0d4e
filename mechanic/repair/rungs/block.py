"""The block rung: the model sees only the unit around the error
(mechanic/repair/blocks.py), when that saves most of the file."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from mechanic.detect.checkers.base import Finding
from mechanic.repair.answer import block_from_answer
from mechanic.repair.backends.base import Backend
from mechanic.repair.baseline import Baseline, focus_lines
from mechanic.repair.blocks import Block, find_block, imports_and_names, splice
from mechanic.repair.prompt import DoesNotFit, Prompt, build_block_prompt
from mechanic.repair.rungs.base import NotApplicable, Proposal, ask, examples
from mechanic.store import AttemptRecord, Store

if TYPE_CHECKING:  # Work is only named in annotations: no import cycle through validate
    from mechanic.repair.validate import Work

# "auto" sends a block only when it saves most of the file: in a short file, or when
# the unit is most of the file, the whole-file prompt costs about the same and shows more.
AUTO_BLOCK_MIN_LINES = 40
AUTO_BLOCK_MAX_SHARE = 0.5


def plan_block(
    lines: list[str],
    finding: Finding,
    base: Baseline | None,
    *,
    name: str,
    examples: str,
    context_tokens: int,
    count_tokens: Callable[[str], int],
    max_share: float | None = None,
) -> tuple[Block, Prompt, str]:
    """The block around the error and its prompt, with a word on how it was
    localised. Raises DoesNotFit when even the block cannot be sent, or when it is
    more than `max_share` of the file (the whole-file prompt then costs about the same)."""
    code_lines = len("\n".join(lines).rstrip("\n").split("\n"))
    focus, why = focus_lines(lines, finding, base)
    block = find_block(lines, finding.language, focus)
    if max_share is not None and block.size > max_share * code_lines:
        raise DoesNotFit("the block is most of the file")
    imports, names = imports_and_names(lines, finding.language, block)
    error_at = finding.line
    error_line = lines[error_at - 1] if error_at and 0 < error_at <= len(lines) else None
    prompt = build_block_prompt(
        name=name,
        block_text="\n".join(lines[block.start : block.end]),
        first_line=block.start + 1,
        total_lines=code_lines,
        error_line_text=error_line if error_line and error_line.strip() else None,
        finding=finding,
        imports=imports,
        names=names,
        examples=examples,
        context_tokens=context_tokens,
        count_tokens=count_tokens,
    )
    return block, prompt, why


class BlockRung:
    name: Literal["block"] = "block"

    def __init__(self, backend: Backend, store: Store, mode: str) -> None:
        self.backend = backend
        self.store = store
        self.mode = mode  # [repair] mode: "auto" sends a block only where it pays

    def attempt(self, work: Work, record: AttemptRecord) -> Proposal | None:
        lines = work.lines
        code_lines = len(work.text.rstrip("\n").split("\n"))
        if self.mode == "auto" and code_lines < AUTO_BLOCK_MIN_LINES:
            raise NotApplicable(f"a file under {AUTO_BLOCK_MIN_LINES} lines is sent whole")
        try:
            block, prompt, why = plan_block(
                lines,
                work.finding,
                work.chosen.baseline,
                name=work.chosen.file.rel,
                examples=examples(self.store, work),
                context_tokens=self.backend.context_tokens(),
                count_tokens=self.backend.count_tokens,
                max_share=AUTO_BLOCK_MAX_SHARE if self.mode == "auto" else None,
            )
        except DoesNotFit as exc:
            raise NotApplicable(str(exc)) from None
        where = f"lines {block.start + 1}-{block.end} ({block.header or block.kind}; {why})"
        completion = ask(self.backend, work, record, prompt, rung=self.name, where=where)
        replacement = block_from_answer(
            completion.text, lines, block.start, block.end, done_reason=completion.done_reason
        )
        return Proposal(splice(lines, block, replacement), note=f"block {where}")
