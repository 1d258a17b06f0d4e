"""The repair ladder: the cheapest rung first, each candidate validated before
the transaction (the only writer), every try recorded with its rung.

Rungs, in order (config `[repair] mode` picks the model rungs):

- deterministic: small token edits near the error, no model. It runs first, in the
  cycle's choose step (repair/rungs/deterministic/rung.py), so dry runs and backend "none" get it
  too; its attempts are recorded with rung "deterministic". The rest run here, each
  an object with a name and one method (repair/rungs/base.py's Rung):
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

import structlog

from mechanic.alerts import Alert
from mechanic.config.settings import Config
from mechanic.detect.checkers import CheckerSet
from mechanic.errors import BackendError
from mechanic.files.hashing import sha256
from mechanic.files.userfile import read_regular
from mechanic.kinds import Outcome, RungName
from mechanic.repair.answer import Rejected
from mechanic.repair.backends.base import Backend
from mechanic.repair.prompt import (
    error_text,
)
from mechanic.repair.record import new_attempt
from mechanic.repair.rungs.base import NotApplicable, Rung
from mechanic.repair.rungs.block import BlockRung
from mechanic.repair.rungs.memory import MemoryRung
from mechanic.repair.rungs.whole import WholeRung
from mechanic.repair.runtests import FixValidator, validator_for
from mechanic.repair.validate import ChosenFile, Work, read_work, validate_and_apply
from mechanic.store import AttemptRecord, Store
from mechanic.write.textfile import NotText, decode, encode
from mechanic.write.writer import Writer

log = structlog.get_logger("mechanic.ladder")

# The order the rungs after the deterministic one are climbed in each mode. The
# memory rung asks no model and runs in every mode.
RUNGS_BY_MODE: dict[str, tuple[RungName, ...]] = {
    "auto": ("memory", "block", "whole"),
    "block": ("memory", "block"),
    "whole": ("memory", "whole"),
}
MODEL_RUNGS: tuple[RungName, ...] = ("block", "whole")
FREE_RUNGS: tuple[RungName, ...] = ("deterministic", "memory")
STRIKES = 3
MEMORY_CONTEXT_LINES = 1  # lines kept around a remembered fix so it matches only its code
MEMORY_MAX_LINES = 40


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

    def rungs(self) -> list[Rung]:
        """The rungs this mode climbs after the deterministic one, in order; with
        no model only the free ones."""
        built: list[Rung] = []
        for name in RUNGS_BY_MODE[self.mode]:
            if name == "memory":
                built.append(MemoryRung(self.store))
            elif self.backend is None:
                continue  # a model rung with no model
            elif name == "block":
                built.append(BlockRung(self.backend, self.store, self.mode))
            elif name == "whole":
                built.append(WholeRung(self.backend, self.store))
        return built

    def run(self, chosen: ChosenFile, sink: Callable[[AttemptRecord], None]) -> str | None:
        """Climb the ladder for one file, handing each attempt's record to `sink`
        as it ends. Returns why nothing was tried when no attempt was made and no
        model could be asked (the cycle holds the file then). Raises BackendError
        when the backend is unusable or a request failed; when the prompt had been
        sent (`prompt_sent`), this file's attempt is recorded already."""
        finding = chosen.finding
        checker = self.checkers.get(finding.language)
        work = read_work(chosen, checker, self.guard)
        if isinstance(work, str):
            sink(self._record(chosen, "skipped", work, rung=None))
            return None
        sig = signature(finding.message, finding.language)
        notes: list[str] = []
        attempted = False
        for rung in self.rungs():
            record = self._record(chosen, "skipped", "", rung=rung.name)
            record.old_sha = _sha(work.original)
            record.signature = sig
            started = time.monotonic()
            failed: BackendError | None = None
            try:
                proposal = rung.attempt(work, record)
            except NotApplicable as exc:
                notes.append(f"{rung.name}: {exc}")
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
                        validate=self._validator(chosen),
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
        sink(self._record(chosen, "skipped", "not sent: " + "; ".join(notes), rung=None))
        return None

    # --- helpers ----------------------------------------------------------

    def _validator(self, chosen: ChosenFile) -> FixValidator | None:
        """Tests in a throwaway copy, when the file's watch root sets test_cmd/smoke_cmd."""
        settings = self.config.mechanic
        return validator_for(
            self.config.watches,
            chosen.file.root,
            chosen.file.real,
            skip=(settings.state_dir, settings.backup_dir),
            stop=self.writer.gate.stop,
        )

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
            root=str(work.chosen.file.root),
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
        self, chosen: ChosenFile, outcome: Outcome, reason: str, *, rung: RungName | None
    ) -> AttemptRecord:
        model = None if rung in FREE_RUNGS else self.backend  # free rungs ask no model
        return new_attempt(
            chosen.file.real,
            chosen.finding.language,
            error_text(chosen.finding),
            outcome=outcome,
            reason=reason,
            backend=model.name if model else None,
            model=model.model if model else None,
            rung=rung,
            signature=signature(chosen.finding.message, chosen.finding.language),
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


def record_revert(
    store: Store, attempt: AttemptRecord, *, restored: bytes, fixed: bytes | None
) -> None:
    """Put on the record that `attempt`'s fix was taken back by a person, for
    `mechanic revert` and for recovery of a revert a killed run finished: the
    attempt is undone, and the content it fixed (`restored`, now in the file)
    waits for a change or `mechanic retry` (see refuse)."""
    assert attempt.id is not None
    store.mark_undone(attempt.id)
    refuse(
        store,
        path=attempt.path,
        language=attempt.language,
        old_sha=attempt.old_sha or _sha(restored),
        original=restored,
        fixed=fixed,
        how="reverted",
        attempt_id=attempt.id,
        rung=attempt.rung,
    )


def _sha(data: bytes) -> str:
    return sha256(data)
