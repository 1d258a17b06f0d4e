"""Cycles, the findings each cycle made, and attempts: what mechanic tried on
each file and how it ended."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, get_args

from mechanic.kinds import Outcome
from mechanic.redact import scrub
from mechanic.store.connection import Part, from_row

if TYPE_CHECKING:
    from mechanic.detect.checkers.base import Finding

# Every outcome an attempt may have (kinds.Outcome names them; "pending": a validated
# fix kept for review, [mechanic] apply = "review").
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)


@dataclass
class AttemptRecord:
    """One try at repairing one file, whatever its outcome."""

    path: str
    language: str
    error: str
    outcome: str
    reason: str = ""
    backend: str | None = None
    model: str | None = None
    prompt_tokens: int | None = None
    answer_tokens: int | None = None
    duration_s: float | None = None
    backup_path: str | None = None
    diff: str | None = None
    old_sha: str | None = None
    new_sha: str | None = None
    cycle_id: int | None = None
    started_at: float = 0.0
    id: int | None = None
    undone_at: float | None = None
    rung: str | None = None  # deterministic | memory | block | whole | restore
    signature: str | None = None  # the error, without positions (see ladder.signature)
    intent: str | None = None  # the applied write's intent id (transaction.settle)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Cycle:
    """One cycle's row: when it ran and what it counted (None until it finished)."""

    id: int
    started_at: float
    finished_at: float | None
    dry_run: int  # 0 or 1, as stored (and shown by status --json)
    files_seen: int | None = None
    files_checked: int | None = None
    findings: int | None = None
    attempts: int | None = None
    applied: int | None = None
    remaining: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Totals:
    """Everything the store has recorded: cycles, attempts by outcome, tokens."""

    cycles: int
    attempts: int
    applied: int
    reverted: int
    rejected: int
    skipped: int
    pending: int
    prompt_tokens: int
    answer_tokens: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RungStats:
    """One rung of the ladder: attempts, fixes, tokens and seconds spent."""

    rung: str
    attempts: int
    applied: int
    prompt_tokens: int
    answer_tokens: int
    seconds: float
    fix_rate: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _attempt(row: Any) -> AttemptRecord:
    names = {f.name for f in fields(AttemptRecord)}
    return AttemptRecord(**{key: row[key] for key in row.keys() if key in names})  # noqa: SIM118


class Attempts(Part):
    """The cycles, findings and attempts tables."""

    def start_cycle(self, *, dry_run: bool) -> int:
        with self._db.tx() as db:
            return db.insert(
                "INSERT INTO cycles (started_at, dry_run) VALUES (?, ?)", (time.time(), dry_run)
            )

    def finish_cycle(self, cycle_id: int, **counts: Any) -> None:
        allowed = {"files_seen", "files_checked", "findings", "attempts", "applied", "remaining"}
        allowed.add("error")
        unknown = set(counts) - allowed
        if unknown:
            raise ValueError(f"unknown cycle fields {sorted(unknown)}")
        columns = ", ".join(f"{name} = ?" for name in counts)
        with self._db.tx() as db:
            db.execute(
                f"UPDATE cycles SET finished_at = ?, {columns} WHERE id = ?",
                (time.time(), *counts.values(), cycle_id),
            )

    def finish_unfinished_cycles(self, error: str) -> list[int]:
        """Close the rows of cycles that never finished (their process was stopped
        or killed mid-cycle), so status and history do not show them as running.
        Call only while holding the cycle lock: then no cycle is under way."""
        with self._db.tx() as db:
            ids = [
                int(row[0])
                for row in db.execute("SELECT id FROM cycles WHERE finished_at IS NULL ORDER BY id")
            ]
            db.executemany(
                "UPDATE cycles SET finished_at = ?, error = ? WHERE id = ?",
                [(time.time(), error, cycle_id) for cycle_id in ids],
            )
        return ids

    def last_cycle(self) -> Cycle | None:
        row = self._db.execute("SELECT * FROM cycles ORDER BY id DESC LIMIT 1").fetchone()
        return from_row(Cycle, row) if row else None

    def add_findings(self, cycle_id: int, findings: Iterable[Finding]) -> None:
        rows = [
            (cycle_id, str(f.path), f.language, f.kind, f.line, f.column, scrub(f.message))
            for f in findings
        ]
        with self._db.tx() as db:
            db.executemany(
                "INSERT INTO findings (cycle_id, path, language, kind, line, col, message)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def record_attempt(self, attempt: AttemptRecord) -> int:
        if attempt.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {attempt.outcome!r}")
        # What is stored is what is shown (status, --json, the report): scrubbed once,
        # here, so no caller can forget it.
        attempt.error, attempt.reason = scrub(attempt.error), scrub(attempt.reason)
        attempt.diff = scrub(attempt.diff) if attempt.diff else attempt.diff
        values = attempt.to_dict()
        values["started_at"] = values["started_at"] or time.time()
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._db.tx() as db:
            values["id"] = db.next_id("attempts", self.id_floor)
            db.execute(f"INSERT INTO attempts ({names}) VALUES ({marks})", tuple(values.values()))
        attempt.id = int(values["id"])
        return attempt.id

    def attempt(self, attempt_id: int) -> AttemptRecord | None:
        row = self._db.execute("SELECT * FROM attempts WHERE id = ?", (attempt_id,)).fetchone()
        return _attempt(row) if row else None

    def recent_attempts(self, limit: int = 10) -> list[AttemptRecord]:
        rows = self._db.execute("SELECT * FROM attempts ORDER BY id DESC LIMIT ?", (limit,))
        return [_attempt(row) for row in rows]

    def set_attempt_reason(self, attempt_id: int | None, reason: str) -> None:
        with self._db.tx() as db:
            db.execute("UPDATE attempts SET reason = ? WHERE id = ?", (scrub(reason), attempt_id))

    def mark_undone(self, attempt_id: int) -> None:
        with self._db.tx() as db:
            db.execute(
                "UPDATE attempts SET undone_at = ? WHERE id = ? AND undone_at IS NULL",
                (time.time(), attempt_id),
            )

    def attempt_for_intent(self, intent: str) -> int | None:
        """The attempt that recorded the write of `intent`, if one did."""
        row = self._db.execute("SELECT id FROM attempts WHERE intent = ?", (intent,)).fetchone()
        return int(row[0]) if row else None

    def totals(self) -> Totals:
        counts: dict[str, int] = {outcome: 0 for outcome in OUTCOMES}
        for row in self._db.execute("SELECT outcome, COUNT(*) FROM attempts GROUP BY outcome"):
            counts[row[0]] = row[1]
        tokens = self._db.execute(
            "SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(answer_tokens), 0) FROM attempts"
        ).fetchone()
        cycles = self._db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0]
        return Totals(
            cycles=cycles,
            attempts=sum(counts.values()),
            **counts,
            prompt_tokens=tokens[0],
            answer_tokens=tokens[1],
        )

    def failed_attempts(self, path: str, old_sha: str) -> int:
        """Failed tries on this exact content of `path` (a changed file starts over)."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM attempts WHERE path = ? AND old_sha = ?"
            " AND (outcome IN ('reverted', 'rejected')"
            " OR (outcome = 'skipped' AND prompt_tokens IS NOT NULL))",
            (path, old_sha),
        ).fetchone()
        return int(row[0])

    def rung_stats(self) -> list[RungStats]:
        """Per rung of the ladder: attempts, fixes, fix rate, tokens and time spent."""
        rows = self._db.execute(
            "SELECT COALESCE(rung, 'whole') AS rung, COUNT(*) AS attempts,"
            " SUM(CASE WHEN outcome = 'applied' THEN 1 ELSE 0 END) AS applied,"
            " COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,"
            " COALESCE(SUM(answer_tokens), 0) AS answer_tokens,"
            " COALESCE(SUM(duration_s), 0) AS seconds"
            " FROM attempts WHERE rung IS NOT NULL OR prompt_tokens IS NOT NULL"
            " GROUP BY COALESCE(rung, 'whole') ORDER BY MIN(id)"
        )
        return [
            from_row(
                RungStats,
                row,
                fix_rate=round(row["applied"] / row["attempts"], 3) if row["attempts"] else 0,
                seconds=round(row["seconds"], 3),
            )
            for row in rows
        ]
