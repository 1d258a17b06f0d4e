"""The repair ladder: the cheapest rung first, each candidate validated before
the transaction (the only writer), every try recorded with its rung.

Rungs, in order (config `[repair] mode` picks the model rungs):

- deterministic: small token edits near the error, no model. It runs first, in the
  cycle's choose step (repair/rungs/deterministic/rung.py), so dry runs and backend "none" get it
  too; its attempts are recorded with rung "deterministic". The rest run here:
- memory: the same error in the same code was fixed before: reuse that patch, 0 tokens;
- block: the model sees only the unit around the error (mechanic/repair/blocks.py);
- whole: the model sees the whole file (seed 003's protocol), only when it fits comfortably.

A rung that has nothing to offer (no remembered fix, a file too long) asks
nothing and records nothing. After STRIKES failed tries on the same content the
file is marked "needs a person" and left alone until it changes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from mechanic.alerts import Alert
from mechanic.config.settings import Config
from mechanic.detect.checkers import CheckerSet
from mechanic.detect.checkers.base import Finding
from mechanic.errors import BackendError
from mechanic.files.hashing import sha256
from mechanic.files.userfile import read_regular
from mechanic.repair.answer import Rejected, block_from_answer, candidate_from_answer
from mechanic.repair.backends.base import Backend
from mechanic.repair.baseline import Baseline, focus_lines
from mechanic.repair.blocks import Block, find_block, imports_and_names, splice
from mechanic.repair.prompt import (
    DoesNotFit,
    Prompt,
    build_block_prompt,
    build_whole_file_prompt,
    error_text,
    format_examples,
)
from mechanic.repair.runtests import FixValidator, validator_for
from mechanic.repair.validate import Candidate, Work, read_work, validate_and_apply
from mechanic.store import AttemptRecord, Store
from mechanic.write.textfile import NotText, decode, encode
from mechanic.write.writer import Writer

log = structlog.get_logger("mechanic.ladder")

# The order the rungs after the deterministic one are climbed in each mode. The
# memory rung asks no model and runs in every mode.
RUNGS_BY_MODE: dict[str, tuple[str, ...]] = {
    "auto": ("memory", "block", "whole"),
    "block": ("memory", "block"),
    "whole": ("memory", "whole"),
}
MODEL_RUNGS = ("block", "whole")
FREE_RUNGS = ("deterministic", "memory")
STRIKES = 3
# "auto" sends a block only when it saves most of the file: in a short file, or when
# the unit is most of the file, the whole-file prompt costs about the same and shows more.
AUTO_BLOCK_MIN_LINES = 40
AUTO_BLOCK_MAX_SHARE = 0.5
# The whole-file rung needs the file and its answer to fit in this share of the context.
WHOLE_COMFORT = 0.75
EXAMPLES = 2  # past fixes shown to a model
MEMORY_CONTEXT_LINES = 1  # lines kept around a remembered fix so it matches only its code
MEMORY_MAX_LINES = 40
MEMORY_NEAR = 5  # a remembered fix applies only this close to the error's line


class NotApplicable(Exception):
    """The rung has nothing to offer for this file; nothing was asked."""


@dataclass
class Proposal:
    text: str
    note: str = ""


def signature(finding_message: str, language: str) -> str:
    """The error without positions: the same fault reads the same wherever it is."""
    message = re.sub(r"\b(?:on )?line \d+|\bcolumn \d+|:\d+(?::\d+)?", "", finding_message)
    return f"{language}:{' '.join(message.split())}"


def fix_snippets(old: str, new: str) -> tuple[str, str] | None:
    """The lines a fix changed, with a line of context around them (before, after);
    None for a change too large to reuse."""
    a, b = old.split("\n"), new.split("\n")
    prefix = 0
    while prefix < min(len(a), len(b)) and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(len(a), len(b)) - prefix and a[-1 - suffix] == b[-1 - suffix]:
        suffix += 1
    lo = max(prefix - MEMORY_CONTEXT_LINES, 0)
    keep = max(suffix - MEMORY_CONTEXT_LINES, 0)
    before, after = a[lo : len(a) - keep], b[lo : len(b) - keep]
    if not before or len(before) > MEMORY_MAX_LINES or len(after) > MEMORY_MAX_LINES:
        return None
    return "\n".join(before), "\n".join(after)


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


class Ladder:
    def __init__(
        self,
        config: Config,
        store: Store,
        backend: Backend | None,
        checkers: CheckerSet,
        writer: Writer,
        alert: Callable[[Alert], None] | None = None,
    ) -> None:
        """`writer` writes every fix (the cycle's); `alert` takes the alert for a
        file struck out (the cycle sends them)."""
        self.config = config
        self.alert = alert
        self.store = store
        self.backend = backend
        self.checkers = checkers
        self.writer = writer
        self.guard = writer.guard
        self.mode = config.repair.mode

    def rungs(self) -> list[str]:
        names = list(RUNGS_BY_MODE[self.mode])
        if self.backend is None:
            names = [n for n in names if n not in MODEL_RUNGS]
        return names

    def run(self, candidate: Candidate, sink: Callable[[AttemptRecord], None]) -> str | None:
        """Climb the ladder for one file, handing each attempt's record to `sink`
        as it ends. Returns why nothing was tried when no attempt was made and no
        model could be asked (the cycle holds the file then). Raises BackendError
        when the backend is unusable or a request failed; when the prompt had been
        sent (`prompt_sent`), this file's attempt is recorded already."""
        finding = candidate.finding
        checker = self.checkers.get(finding.language)
        work = read_work(candidate, checker, self.guard)
        if isinstance(work, str):
            sink(self._record(candidate, "skipped", work, rung=None))
            return None
        sig = signature(finding.message, finding.language)
        notes: list[str] = []
        attempted = False
        for rung in self.rungs():
            record = self._record(candidate, "skipped", "", rung=rung)
            record.old_sha = _sha(work.original)
            record.signature = sig
            started = time.monotonic()
            failed: BackendError | None = None
            try:
                proposal = getattr(self, f"_{rung}")(work, record, sig)
            except NotApplicable as exc:
                notes.append(f"{rung}: {exc}")
                continue
            except Rejected as exc:
                record.outcome, record.reason = "rejected", str(exc)
            except BackendError as exc:
                if not exc.prompt_sent:
                    record.reason = "the model backend failed"
                    raise
                # Sent, then timed out, dropped, refused or garbled: an attempt on this
                # file, recorded as what happened; the cycle then asks no more.
                record.reason, failed = str(exc), exc
            else:
                if proposal is None:
                    continue
                if refused := self._refused_before(work, proposal.text):
                    record.outcome, record.reason = "rejected", refused
                else:
                    validate_and_apply(
                        work,
                        proposal.text,
                        record,
                        writer=self.writer,
                        max_file_kb=self.config.mechanic.max_file_kb,
                        validate=self._validator(candidate),
                    )
                if proposal.note and record.outcome != "applied":
                    record.reason = f"{record.reason} [{proposal.note}]"
            finally:
                record.duration_s = round(time.monotonic() - started, 3)
            attempted = True
            sink(record)
            if failed is not None:
                raise failed
            if record.outcome == "applied":
                self._remember(work, record)
                return None
            if record.outcome == "pending":  # review mode: a person decides, no more rungs
                return None
            if record.outcome == "skipped" and record.prompt_tokens is None:
                return None  # the file changed under us, or the backup failed: stop here
            if self._struck_out(work, record):
                return None
        if attempted:
            return None
        if self.backend is None:
            return "; ".join(["no model rung (llm.backend is 'none' or unusable)", *notes])
        sink(self._record(candidate, "skipped", "not sent: " + "; ".join(notes), rung=None))
        return None

    # --- rungs ------------------------------------------------------------

    def _memory(self, work: Work, record: AttemptRecord, sig: str) -> Proposal | None:
        error_at = (work.finding.line or 1) - 1
        for remembered in self.store.remembered_fixes(work.finding.language, sig):
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

    def _block(self, work: Work, record: AttemptRecord, sig: str) -> Proposal | None:
        assert self.backend is not None
        lines = work.lines
        code_lines = len(work.text.rstrip("\n").split("\n"))
        if self.mode == "auto" and code_lines < AUTO_BLOCK_MIN_LINES:
            raise NotApplicable(f"a file under {AUTO_BLOCK_MIN_LINES} lines is sent whole")
        try:
            block, prompt, why = plan_block(
                lines,
                work.finding,
                work.candidate.baseline,
                name=work.candidate.file.rel,
                examples=self._examples(work),
                context_tokens=self.backend.context_tokens(),
                count_tokens=self.backend.count_tokens,
                max_share=AUTO_BLOCK_MAX_SHARE if self.mode == "auto" else None,
            )
        except DoesNotFit as exc:
            raise NotApplicable(str(exc)) from None
        where = f"lines {block.start + 1}-{block.end} ({block.header or block.kind}; {why})"
        completion = self._ask(work, record, prompt, rung="block", where=where)
        replacement = block_from_answer(
            completion.text, lines, block.start, block.end, done_reason=completion.done_reason
        )
        return Proposal(splice(lines, block, replacement), note=f"block {where}")

    def _whole(self, work: Work, record: AttemptRecord, sig: str) -> Proposal | None:
        assert self.backend is not None
        try:
            prompt = build_whole_file_prompt(
                name=work.candidate.file.rel,
                code=work.text,
                finding=work.finding,
                context_tokens=self.backend.context_tokens(),
                count_tokens=self.backend.count_tokens,
                examples=self._examples(work),
                comfort=WHOLE_COMFORT,
            )
        except DoesNotFit as exc:
            raise NotApplicable(str(exc)) from None
        completion = self._ask(work, record, prompt, rung="whole", where="the whole file")
        code = candidate_from_answer(completion.text, work.text, done_reason=completion.done_reason)
        return Proposal(code)

    # --- helpers ----------------------------------------------------------

    def _validator(self, candidate: Candidate) -> FixValidator | None:
        """Tests in a throwaway copy, when the file's watch root sets test_cmd/smoke_cmd."""
        settings = self.config.mechanic
        return validator_for(
            self.config.watches,
            candidate.file.root,
            candidate.file.real,
            skip=(settings.state_dir, settings.backup_dir),
            stop=self.writer.gate.stop,
        )

    def _ask(self, work: Work, record: AttemptRecord, prompt: Prompt, *, rung: str, where: str):
        assert self.backend is not None
        log.info(
            "repair.ask",
            file=str(work.target),
            rung=rung,
            sent=where,
            error=record.error,
            model=self.backend.model,
            prompt_tokens=prompt.prompt_tokens,
        )
        record.prompt_tokens = prompt.prompt_tokens  # known sent, even if it times out
        completion = self.backend.complete(
            system=prompt.system, prompt=prompt.user, max_tokens=prompt.max_answer_tokens
        )
        if completion.prompt_tokens is not None:
            record.prompt_tokens = completion.prompt_tokens
        record.answer_tokens = completion.answer_tokens
        return completion

    def _examples(self, work: Work) -> str:
        found = self.store.fix_examples(
            work.finding.language, str(work.target), str(work.candidate.file.root), EXAMPLES
        )
        return format_examples(found)

    def _remember(self, work: Work, record: AttemptRecord) -> None:
        try:
            fixed = read_regular(work.target)
            new_text, _ = decode(fixed, work.finding.language)
        except (OSError, ValueError):
            return
        snippets = fix_snippets(work.text, new_text)
        if snippets is None:
            return
        self.store.remember_fix(
            language=work.finding.language,
            signature=record.signature or "",
            root=str(work.candidate.file.root),
            path=str(work.target),
            error=record.error,
            before=snippets[0],
            after=snippets[1],
            attempt_id=record.id,
        )

    def _refused_before(self, work: Work, text: str) -> str | None:
        """Why `text` may not be written: it is the very fix a person reverted or
        rejected on this content (a model can answer the same twice)."""
        try:
            new_sha = _sha(encode(text, work.fmt))
        except UnicodeEncodeError:
            return None  # validate_and_apply refuses it with its own reason
        for refusal in self.store.refusals(str(work.target), _sha(work.original)):
            if refusal.new_sha == new_sha:
                by = f" (attempt #{refusal.attempt_id})" if refusal.attempt_id else ""
                return (
                    f"this is the fix a person {refusal.how}{by} on this content;"
                    " it is never applied to it again"
                )
        return None

    def _struck_out(self, work: Work, record: AttemptRecord) -> bool:
        failures = self.store.failed_attempts(str(work.target), _sha(work.original))
        if failures < STRIKES:
            return False
        reason = (
            f"{failures} failed attempts on this error ({record.error});"
            " mechanic tries again once the file changes"
        )
        self.store.mark_needs_person(str(work.target), _sha(work.original), "strikes", reason)
        if self.alert is not None:
            self.alert(Alert.needs_person(work.target, "strikes", reason))
        return True

    def _record(
        self, candidate: Candidate, outcome: str, reason: str, *, rung: str | None
    ) -> AttemptRecord:
        return AttemptRecord(
            path=str(candidate.file.real),
            language=candidate.finding.language,
            error=error_text(candidate.finding),
            outcome=outcome,
            reason=reason,
            backend=self.backend.name if self.backend and rung not in FREE_RUNGS else None,
            model=self.backend.model if self.backend and rung not in FREE_RUNGS else None,
            started_at=time.time(),
            rung=rung,
            signature=signature(candidate.finding.message, candidate.finding.language),
        )


def refuse(
    store: Store,
    *,
    path: str,
    language: str,
    old_sha: str,
    original: bytes | None,
    fixed: bytes | None,
    how: str,
    attempt_id: int | None,
    rung: str | None,
) -> None:
    """A person reverted (`how` = "reverted") or rejected a fix of `path` made
    from `original` (sha256 `old_sha`; the bytes, when still at hand, let the
    remembered patch be found by its text). That content waits for a change or
    `mechanic retry`, the same fix is never applied to it again, and its
    remembered patch is retired: the memory rung reuses it nowhere, no prompt
    shows it as an example."""
    snippets = None
    if original is not None and fixed is not None:
        try:
            before, _ = decode(original, language)
            after, _ = decode(fixed, language)
        except NotText:
            pass
        else:
            snippets = fix_snippets(before, after)
    store.refuse_fix(
        path=path,
        sha256=old_sha,
        new_sha=_sha(fixed) if fixed is not None else None,
        how=how,
        attempt_id=attempt_id,
        rung=rung,
        snippets=snippets,
    )


def _sha(data: bytes) -> str:
    return sha256(data)
