"""One broken file read for repair, and the last step every rung shares: a
candidate text validated in memory, then handed to the transaction, the only
writer. Which rungs produce candidates, and in what order, is mechanic/repair/ladder.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mechanic.detect import static
from mechanic.detect.checkers.base import Checker, Finding
from mechanic.detect.discovery import Guard, WatchedFile
from mechanic.errors import CheckerUnavailable
from mechanic.files.hashing import sha256
from mechanic.files.userfile import read_regular
from mechanic.repair.baseline import Baseline
from mechanic.repair.guard import meaning
from mechanic.repair.runtests import FixValidator
from mechanic.store import AttemptRecord
from mechanic.write.textfile import NotText, TextFormat, decode, encode
from mechanic.write.transaction import refused_by_check
from mechanic.write.writer import Writer


@dataclass(frozen=True)
class ChosenFile:
    """A broken file chosen for repair this cycle, with what it is compared to."""

    file: WatchedFile
    finding: Finding
    baseline: Baseline | None = None


@dataclass
class Work:
    """A chosen file as read for this repair: every rung works from these bytes."""

    chosen: ChosenFile
    target: Path
    original: bytes
    text: str
    fmt: TextFormat
    checker: Checker

    @property
    def finding(self) -> Finding:
        return self.chosen.finding

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


def read_work(chosen: ChosenFile, checker: Checker, guard: Guard) -> Work | str:
    """The file's bytes and text, or why it cannot be repaired."""
    target, finding = chosen.file.real, chosen.finding
    if refusal := guard.refusal(chosen.file.path):
        return f"{refusal}: never sent to a model"
    try:
        original = read_regular(target)
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    try:
        text, fmt = decode(original, finding.language)
    except NotText as exc:
        return f"not editable as text: {exc}"
    return Work(chosen, target, original, text, fmt, checker)


def validate_and_apply(
    work: Work,
    text: str,
    record: AttemptRecord,
    *,
    writer: Writer,
    max_file_kb: int,
    validate: FixValidator | None = None,
) -> None:
    """Write `text` over the file if and only if it passes: the checker; the meaning
    guard (mechanic/repair/guard/meaning.py: only the faulty region changes, nothing added, dropped
    or renamed); no new static error (and, for a static finding, that error gone);
    the root's tests in a throwaway copy (`validate`, where test_cmd/smoke_cmd is
    set). The checker runs once: the transaction writes exactly the bytes it
    passed (or, in review mode, keeps them pending). Sets the record's outcome,
    reason, backup and diff."""
    try:
        fixed = encode(text, work.fmt)
    except UnicodeEncodeError as exc:
        record.outcome = "rejected"
        record.reason = f"the answer has characters {work.fmt.encoding} cannot hold: {exc.reason}"
        return
    if fixed == work.original:
        record.outcome, record.reason = "rejected", "the candidate is the file unchanged"
        return
    record.new_sha = sha256(fixed)
    checked = writer.check(work.target, fixed, work.checker)
    if isinstance(checked, Finding):
        record.outcome = "reverted"
        record.reason = refused_by_check(work.checker, checked)
        return
    try:
        refused = meaning.refusal(
            work.text,
            text,
            language=work.finding.language,
            finding=work.finding,
            baseline=work.chosen.baseline,
            max_file_kb=max_file_kb,
            path=work.target,
            checker=work.checker,
        ) or static.refusal(work.finding, work.text, text, work.target, checker=work.checker)
    except CheckerUnavailable:
        refused = None  # without node there is no JavaScript analysis to consult
    if refused:
        record.outcome, record.reason = "rejected", refused
        return
    result = writer.apply(
        work.target,
        original=work.original,
        fixed=checked,
        checker=work.checker,
        validate=validate,
        attempt=record.to_dict(),
    )
    record.outcome, record.reason = result.outcome, result.reason
    record.intent = result.intent  # the recorder settles it once the row is committed
    if result.outcome == "applied" and validate is not None and validate.summary:
        record.reason += f"; {validate.summary}"
    record.backup_path = str(result.backup_path) if result.backup_path else None
    record.diff = result.diff
    record.new_sha = result.new_sha
