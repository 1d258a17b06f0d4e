"""Review mode (mechanic/write/review.py): validated fixes waiting for a
person. The fixed bytes live in <backup_dir>/pending/, named by their hash; a
row here says whose they are and what became of them."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mechanic.store.attempts import AttemptRecord
from mechanic.store.connection import Part, from_row


@dataclass(frozen=True)
class Patch:
    """A validated fix kept for review; status pending, accepted or rejected."""

    id: int
    attempt_id: int | None
    created_at: float
    path: str
    language: str
    error: str
    old_sha: str
    new_sha: str
    diff: str | None
    fix_path: str
    status: str = "pending"
    decided_at: float | None = None
    decided_attempt: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Review(Part):
    """The pending table."""

    def add_pending(self, attempt: AttemptRecord, fix_path: Path) -> int:
        with self._db.tx() as db:
            return db.insert(
                "INSERT INTO pending (id, attempt_id, created_at, path, language, error, old_sha,"
                " new_sha, diff, fix_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    db.next_id("pending", self.id_floor),
                    attempt.id,
                    time.time(),
                    attempt.path,
                    attempt.language,
                    attempt.error,
                    attempt.old_sha,
                    attempt.new_sha,
                    attempt.diff,
                    str(fix_path),
                ),
            )

    def pending(self, *, status: str | None = "pending") -> list[Patch]:
        query, args = "SELECT * FROM pending", tuple[str, ...]()
        if status is not None:
            query, args = query + " WHERE status = ?", (status,)
        return [from_row(Patch, row) for row in self._db.execute(query + " ORDER BY id", args)]

    def pending_patch(self, patch_id: int) -> Patch | None:
        row = self._db.execute("SELECT * FROM pending WHERE id = ?", (patch_id,)).fetchone()
        return from_row(Patch, row) if row else None

    def decide_pending(self, patch_id: int, status: str, attempt_id: int | None = None) -> None:
        with self._db.tx() as db:
            db.execute(
                "UPDATE pending SET status = ?, decided_at = ?, decided_attempt = ? WHERE id = ?",
                (status, time.time(), attempt_id, patch_id),
            )
