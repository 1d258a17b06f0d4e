"""Repair memory: fixes that worked, reused for the same error signature (the
memory rung) and shown to a model as examples."""

from __future__ import annotations

import time
from dataclasses import dataclass

from mechanic.store.connection import Part, from_row


@dataclass(frozen=True)
class RememberedFix:
    """A fix that worked: the snippet before and after, and where it was made."""

    id: int
    language: str
    signature: str
    root: str | None
    path: str
    error: str
    before: str
    after: str
    attempt_id: int | None
    created_at: float
    refused_at: float | None = None


class Memory(Part):
    """The fix_memory table (a refused fix is retired in holds.Holds.refuse_fix)."""

    def remember_fix(
        self,
        *,
        language: str,
        signature: str,
        root: str | None,
        path: str,
        error: str,
        before: str,
        after: str,
        attempt_id: int | None,
    ) -> None:
        with self._db.tx() as db:
            db.execute(
                "INSERT INTO fix_memory (language, signature, root, path, error, before, after,"
                " attempt_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (language, signature, root, path, error, before, after, attempt_id, time.time()),
            )

    def remembered_fixes(
        self, language: str, signature: str, limit: int = 20
    ) -> list[RememberedFix]:
        """Past fixes of the same error signature, newest first."""
        rows = self._db.execute(
            "SELECT * FROM fix_memory WHERE language = ? AND signature = ?"
            " AND refused_at IS NULL ORDER BY id DESC LIMIT ?",
            (language, signature, limit),
        )
        return [from_row(RememberedFix, row) for row in rows]

    def fix_examples(
        self, language: str, path: str, root: str | None, limit: int
    ) -> list[RememberedFix]:
        """Past fixes to show a model: the same file first, then the same project."""
        rows = self._db.execute(
            "SELECT * FROM fix_memory WHERE language = ?"
            " AND (path = ? OR root = ? OR (root IS NULL AND ? IS NULL))"
            " AND refused_at IS NULL"
            " ORDER BY CASE WHEN path = ? THEN 0 ELSE 1 END, id DESC LIMIT ?",
            (language, path, root, root, path, limit),
        )
        return [from_row(RememberedFix, row) for row in rows]
