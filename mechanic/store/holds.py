"""What holds a file back from another attempt: cooldowns after a try, fixes a
person refused (revert, reject), and files given up on until a person changes
them (three strikes)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from mechanic.redact import scrub
from mechanic.store.connection import Part, from_row


@dataclass(frozen=True)
class Cooldown:
    """A file cooling down after an attempt, for the content (sha256) and error
    (signature) it was set on; None: whatever the content (older stores)."""

    path: str
    until: float
    attempt_id: int | None
    sha256: str | None = None
    signature: str | None = None


@dataclass(frozen=True)
class Refusal:
    """A fix a person refused (how: "reverted" or "rejected") of `path` at content
    `sha256`; retried_at is set by `mechanic retry FILE`."""

    id: int
    path: str
    sha256: str
    new_sha: str | None
    how: str
    attempt_id: int | None
    rung: str | None
    at: float
    retried_at: float | None = None


@dataclass(frozen=True)
class NeedsPerson:
    """A file mechanic gave up on until it changes (three strikes, ...)."""

    path: str
    sha256: str
    kind: str
    reason: str
    since: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Holds(Part):
    """The cooldowns, refusals and needs_person tables.

    Fixes a person took back (`mechanic revert`) or turned down (`mechanic
    reject`): the content they were made from (sha256) is not attempted again by
    itself, until the file changes or `mechanic retry FILE` (retried_at), and the
    same fix (new_sha) is never applied to that content again."""

    def set_cooldown(
        self,
        path: str,
        until: float,
        attempt_id: int | None,
        *,
        sha256: str | None = None,
        signature: str | None = None,
    ) -> None:
        """Cool `path` down until `until`, for its content `sha256` and error
        `signature` (None: whatever the content, as stores before them did)."""
        with self._db.tx() as db:
            db.execute(
                "INSERT INTO cooldowns (path, until, attempt_id, sha256, signature)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(path) DO UPDATE SET until = excluded.until,"
                " attempt_id = excluded.attempt_id, sha256 = excluded.sha256,"
                " signature = excluded.signature",
                (path, until, attempt_id, sha256, signature),
            )

    def clear_cooldown(self, path: str) -> None:
        with self._db.tx() as db:
            db.execute("DELETE FROM cooldowns WHERE path = ?", (path,))

    def cooldowns(self, now: float | None = None) -> dict[str, float]:
        """Files still cooling down, with the time their cooldown ends."""
        return {path: row.until for path, row in self.cooldown_rows(now).items()}

    def cooldown_rows(self, now: float | None = None) -> dict[str, Cooldown]:
        """Files still cooling down: path -> until, sha256, signature, attempt_id."""
        now = time.time() if now is None else now
        rows = self._db.execute("SELECT * FROM cooldowns WHERE until > ?", (now,))
        return {row["path"]: from_row(Cooldown, row) for row in rows}

    def refuse_fix(
        self,
        *,
        path: str,
        sha256: str,
        new_sha: str | None,
        how: str,
        attempt_id: int | None,
        rung: str | None,
        snippets: tuple[str, str] | None = None,
    ) -> None:
        """Record that a person refused the fix `new_sha` of `path` at content
        `sha256`, and retire the remembered patch it was (its own row, and any
        row holding the same before/after), so no rung reuses or shows it."""
        with self._db.tx() as db:
            db.execute(
                "INSERT INTO refusals (path, sha256, new_sha, how, attempt_id, rung, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (path, sha256, new_sha, how, attempt_id, rung, time.time()),
            )
            now = time.time()
            if attempt_id is not None:
                db.execute(
                    "UPDATE fix_memory SET refused_at = ? WHERE attempt_id = ?"
                    " AND refused_at IS NULL",
                    (now, attempt_id),
                )
            if snippets is not None:
                db.execute(
                    "UPDATE fix_memory SET refused_at = ? WHERE before = ? AND after = ?"
                    " AND refused_at IS NULL",
                    (now, *snippets),
                )

    def refusals(self, path: str, sha256: str) -> list[Refusal]:
        """Fixes refused for this content of `path`, newest first (retried ones too)."""
        rows = self._db.execute(
            "SELECT * FROM refusals WHERE path = ? AND sha256 = ? ORDER BY id DESC",
            (path, sha256),
        )
        return [from_row(Refusal, row) for row in rows]

    def retry(self, path: str) -> int:
        """`mechanic retry FILE`: lift every hold a refusal put on `path`; how many."""
        with self._db.tx() as db:
            cursor = db.execute(
                "UPDATE refusals SET retried_at = ? WHERE path = ? AND retried_at IS NULL",
                (time.time(), path),
            )
            return int(cursor.rowcount)

    def mark_needs_person(self, path: str, sha: str, kind: str, reason: str) -> None:
        with self._db.tx() as db:
            db.execute(
                "INSERT INTO needs_person (path, sha256, kind, reason, since)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE"
                " SET sha256 = excluded.sha256, kind = excluded.kind,"
                " reason = excluded.reason, since = excluded.since",
                (path, sha, kind, scrub(reason), time.time()),
            )

    def clear_needs_person(self, path: str) -> None:
        with self._db.tx() as db:
            db.execute("DELETE FROM needs_person WHERE path = ?", (path,))

    def needs_person(self) -> dict[str, NeedsPerson]:
        """Files mechanic gave up on until they change: path -> sha256, kind, reason, since."""
        rows = self._db.execute("SELECT * FROM needs_person ORDER BY path")
        return {row["path"]: from_row(NeedsPerson, row) for row in rows}
