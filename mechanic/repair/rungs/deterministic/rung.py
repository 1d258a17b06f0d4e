"""The zero-token rung as one step of a cycle: a broken file in, an attempt out.

Reads the file, runs `deterministic.search` on its syntax finding, checks the
found fix with the meaning guard (mechanic/repair/guard/meaning.py) like every rung's candidate,
and hands it to the transaction (the only writer). The attempt is recorded like a
model's, with backend "deterministic", no model and zero tokens, so status and
`mechanic revert` treat it like any other fix. Nothing found, or nothing the
guard accepts, means no attempt: the file goes on to the model, if there is one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from mechanic.detect.checkers import CheckerSet
from mechanic.detect.checkers.base import Finding
from mechanic.files.hashing import sha256
from mechanic.files.userfile import read_regular
from mechanic.repair.baseline import Baseline
from mechanic.repair.guard import meaning
from mechanic.repair.prompt import error_text
from mechanic.repair.record import new_attempt
from mechanic.repair.rungs.deterministic.search import LANGUAGES, search
from mechanic.store import AttemptRecord
from mechanic.write.textfile import NotText, decode, encode
from mechanic.write.transaction import unified_diff
from mechanic.write.writer import Writer

log = structlog.get_logger("mechanic.deterministic")

BACKEND = "deterministic"
BUDGET_SECONDS = 2.0


@dataclass(frozen=True)
class Found:
    """What the rung found in a dry run: the diff it would apply."""

    diff: str


def applies_to(finding: Finding) -> bool:
    return finding.kind == "syntax" and finding.language in LANGUAGES


def try_deterministic(
    target: Path,
    finding: Finding,
    checkers: CheckerSet,
    *,
    writer: Writer,
    dry_run: bool = False,
    budget_seconds: float = BUDGET_SECONDS,
    validate: Callable[[bytes], str | None] | None = None,
    baseline: Baseline | None = None,
    max_file_kb: int = 1024,
) -> AttemptRecord | Found | None:
    """Search a small edit that fixes `finding` in `target` and apply it.

    Returns the attempt (applied, or reverted if the file failed on disk), a `Found`
    in a dry run (nothing written), or None when no edit was found or the file is
    not one this rung handles. `validate` (the root's tests, mechanic/repair/runtests.py) is
    passed to the transaction: a zero-token fix must pass them like any other.
    `baseline` (the last good version) and `max_file_kb` are the meaning guard's."""
    if not applies_to(finding) or writer.guard.is_protected(target):
        return None
    started_at, started = time.time(), time.monotonic()
    try:
        original = read_regular(target)
        text, fmt = decode(original, finding.language)
    except (OSError, NotText):
        return None  # the model path reports unreadable and undecodable files
    checker = checkers.get(finding.language)

    def refusal(candidate: str) -> str | None:
        return meaning.refusal(
            text,
            candidate,
            language=finding.language,
            finding=finding,
            baseline=baseline,
            max_file_kb=max_file_kb,
            path=target,
            checker=checker,
        )

    refused: list[str] = []
    accepted: list[str] = []

    def accept(candidate: str) -> bool:
        # Each candidate that parses, in rank order: a refused one lets the next be judged.
        reason = refusal(candidate)
        (accepted if reason is None else refused).append(reason or candidate)
        return reason is None

    fixed = search(text, finding, checker, target, budget_seconds=budget_seconds, accept=accept)
    if fixed is None:
        log.info(
            "zero_token.none",
            file=str(target),
            error=finding.message,
            refused=len(refused),
            first_refusal=refused[0] if refused else None,
        )
        return None
    if fixed not in accepted and (reason := refusal(fixed)) is not None:
        # never written, whatever search returned
        log.info("zero_token.refused", file=str(target), error=finding.message, reason=reason)
        return None
    try:
        fixed_bytes = encode(fixed, fmt)
    except UnicodeEncodeError:
        return None
    if dry_run:
        return Found(unified_diff(target, original, fixed_bytes))
    record = new_attempt(
        target,
        finding.language,
        error_text(finding),
        backend=BACKEND,
        model=None,
        prompt_tokens=0,
        answer_tokens=0,
        old_sha=sha256(original),
        started_at=started_at,
        rung="deterministic",
    )
    result = writer.apply(
        target,
        original=original,
        fixed=fixed_bytes,
        checker=checker,
        validate=validate,
        attempt=record.to_dict(),
    )
    reason = f"zero-token fix: {result.reason}"
    summary = getattr(validate, "summary", None)
    if result.outcome == "applied" and summary:
        reason += f"; {summary}"
    record.outcome, record.reason = result.outcome, reason
    record.duration_s = round(time.monotonic() - started, 3)
    record.backup_path = str(result.backup_path) if result.backup_path else None
    record.diff, record.new_sha, record.intent = result.diff, result.new_sha, result.intent
    return record
