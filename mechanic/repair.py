"""One repair attempt: a broken file in, an attempt record out.

Reads the file, asks the model, turns the answer into candidate bytes in the
file's own encoding, and hands them to the transaction, the only writer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog

from mechanic import static
from mechanic.answer import Rejected, candidate_from_answer
from mechanic.backends.base import Backend
from mechanic.checkers import CheckerSet
from mechanic.checkers.base import Finding
from mechanic.config import Config
from mechanic.discovery import Guard, WatchedFile
from mechanic.errors import BackendError, BackendTimeout, CheckerUnavailable
from mechanic.prompt import DoesNotFit, build_whole_file_prompt, error_text
from mechanic.store import AttemptRecord
from mechanic.textfile import NotText, decode, encode
from mechanic.transaction import apply_fix, sha256
from mechanic.validation import FixValidator, validator_for

log = structlog.get_logger("mechanic.repair")


@dataclass(frozen=True)
class Candidate:
    """A broken file chosen for repair this cycle."""

    file: WatchedFile
    finding: Finding


class Repairer:
    def __init__(
        self, config: Config, backend: Backend, checkers: CheckerSet, guard: Guard
    ) -> None:
        self.config = config
        self.backend = backend
        self.checkers = checkers
        self.guard = guard

    def attempt(self, candidate: Candidate) -> AttemptRecord:
        """Try to repair one file. Raises BackendError (other than a timeout)
        when the backend is unusable, so the cycle stops asking it."""
        target, finding = candidate.file.real, candidate.finding
        record = AttemptRecord(
            path=str(target),
            language=finding.language,
            error=error_text(finding),
            outcome="skipped",
            backend=self.backend.name,
            model=self.backend.model,
            started_at=time.time(),
        )
        started = time.monotonic()
        try:
            self._attempt(candidate, record)
        finally:
            record.duration_s = round(time.monotonic() - started, 3)
        return record

    def _validator(self, candidate: Candidate) -> FixValidator | None:
        """Tests in a throwaway copy, when the file's watch root sets test_cmd/smoke_cmd."""
        settings = self.config.mechanic
        return validator_for(
            self.config.watches,
            candidate.file.root,
            candidate.file.real,
            skip=(settings.state_dir, settings.backup_dir),
        )

    def _attempt(self, candidate: Candidate, record: AttemptRecord) -> None:
        target, finding = candidate.file.real, candidate.finding
        if refusal := self.guard.refusal(candidate.file.path):
            record.reason = f"{refusal}: never sent to a model"
            return
        try:
            original = target.read_bytes()
        except OSError as exc:
            record.reason = f"cannot read the file: {exc.strerror or exc}"
            return
        record.old_sha = sha256(original)
        try:
            text, fmt = decode(original, finding.language)
        except NotText as exc:
            record.reason = f"not editable as text: {exc}"
            return
        try:
            prompt = build_whole_file_prompt(
                name=candidate.file.rel,
                code=text,
                finding=finding,
                context_tokens=self.backend.context_tokens(),
                count_tokens=self.backend.count_tokens,
            )
        except DoesNotFit as exc:
            record.reason = f"not sent: {exc}"
            return
        log.info(
            "repair.ask",
            file=str(target),
            error=record.error,
            model=self.backend.model,
            prompt_tokens=prompt.prompt_tokens,
        )
        try:
            completion = self.backend.complete(
                system=prompt.system, prompt=prompt.user, max_tokens=prompt.max_answer_tokens
            )
        except BackendTimeout as exc:
            # The model did receive the file: the cooldown applies as to any answer.
            record.prompt_tokens = prompt.prompt_tokens
            record.reason = str(exc)
            return
        except BackendError:
            record.reason = "the model backend failed"
            raise
        record.prompt_tokens = completion.prompt_tokens
        record.answer_tokens = completion.answer_tokens
        try:
            code = candidate_from_answer(completion.text, text, done_reason=completion.done_reason)
        except Rejected as exc:
            record.outcome, record.reason = "rejected", str(exc)
            return
        try:
            fixed = encode(code, fmt)
        except UnicodeEncodeError as exc:
            record.outcome = "rejected"
            record.reason = f"the answer has characters {fmt.encoding} cannot hold: {exc.reason}"
            return
        try:
            refused = static.refusal(
                finding, text, code, target, checker=self.checkers.get(finding.language)
            )
        except CheckerUnavailable:
            refused = None  # without node there is no JavaScript analysis to consult
        if refused:
            record.outcome, record.reason = "rejected", refused
            return
        validate = self._validator(candidate)
        result = apply_fix(
            target,
            original=original,
            fixed=fixed,
            checker=self.checkers.get(finding.language),
            backup_dir=self.config.mechanic.backup_dir,
            guard=self.guard,
            validate=validate,
        )
        record.outcome, record.reason = result.outcome, result.reason
        if result.outcome == "applied" and validate is not None and validate.summary:
            record.reason += f"; {validate.summary}"
        record.backup_path = str(result.backup_path) if result.backup_path else None
        record.diff = result.diff
        record.new_sha = result.new_sha
