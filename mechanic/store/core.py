"""The record: the only module that talks to the database (SQLite in state_dir).

It keeps what each cycle found and tried, per-file cooldowns, and the clean
verdicts that let a warm cycle skip files whose content has not changed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from mechanic.detect.checkers.base import Finding
from mechanic.errors import StoreError, StoreUnusable
from mechanic.files import private
from mechanic.redact import scrub
from mechanic.write.journal import fsync_dir

SCHEMA_VERSION = 1
# "pending": a validated fix kept for review ([mechanic] apply = "review").
OUTCOMES = ("applied", "reverted", "rejected", "skipped", "pending")
PROBE_RESULT_DAYS = 30  # every probe result is kept this long

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cycles (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    finished_at REAL,
    dry_run INTEGER NOT NULL DEFAULT 0,
    files_seen INTEGER, files_checked INTEGER, findings INTEGER,
    attempts INTEGER, applied INTEGER, remaining INTEGER,
    error TEXT
);
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    cycle_id INTEGER NOT NULL REFERENCES cycles(id),
    path TEXT NOT NULL, language TEXT NOT NULL, kind TEXT NOT NULL,
    line INTEGER, col INTEGER, message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    cycle_id INTEGER REFERENCES cycles(id),
    started_at REAL NOT NULL,
    path TEXT NOT NULL, language TEXT NOT NULL, error TEXT NOT NULL,
    backend TEXT, model TEXT,
    prompt_tokens INTEGER, answer_tokens INTEGER, duration_s REAL,
    outcome TEXT NOT NULL CHECK (outcome IN ('applied','reverted','rejected','skipped','pending')),
    reason TEXT, backup_path TEXT, diff TEXT, old_sha TEXT, new_sha TEXT,
    undone_at REAL
);
CREATE INDEX IF NOT EXISTS attempts_path ON attempts(path);
CREATE TABLE IF NOT EXISTS cooldowns (
    path TEXT PRIMARY KEY, until REAL NOT NULL, attempt_id INTEGER
);
CREATE TABLE IF NOT EXISTS file_state (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL,
    signature TEXT NOT NULL, clean INTEGER NOT NULL, checked_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS good_versions (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, content BLOB NOT NULL, saved_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS fix_memory (
    id INTEGER PRIMARY KEY,
    language TEXT NOT NULL, signature TEXT NOT NULL, root TEXT, path TEXT NOT NULL,
    error TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL,
    attempt_id INTEGER, created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS fix_memory_signature ON fix_memory(language, signature);
CREATE TABLE IF NOT EXISTS needs_person (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, kind TEXT NOT NULL,
    reason TEXT NOT NULL, since REAL NOT NULL
);
"""

# Runtime errors from logs (mechanic/detect/errorlog.py): how far each log file has been
# read, by device and inode so a rotated (renamed) file keeps its place; and each
# distinct error by signature, active until the file it points at changes.
_SIGNALS_SCHEMA = """
CREATE TABLE IF NOT EXISTS log_offsets (
    dev INTEGER NOT NULL, ino INTEGER NOT NULL, path TEXT NOT NULL,
    offset INTEGER NOT NULL, head TEXT NOT NULL, seen_at REAL NOT NULL,
    PRIMARY KEY (dev, ino)
);
CREATE TABLE IF NOT EXISTS runtime_errors (
    signature TEXT PRIMARY KEY,
    path TEXT NOT NULL, language TEXT NOT NULL, line INTEGER, col INTEGER,
    error_type TEXT NOT NULL, message TEXT NOT NULL, function TEXT NOT NULL,
    log_path TEXT NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL,
    count INTEGER NOT NULL, file_sha TEXT, addressed_at REAL
);
"""

# Review mode (mechanic/write/review.py): validated fixes waiting for a person. The fixed
# bytes live in <backup_dir>/pending/, named by their hash; a row here says whose
# they are and what became of them.
_REVIEW_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    id INTEGER PRIMARY KEY,
    attempt_id INTEGER, created_at REAL NOT NULL,
    path TEXT NOT NULL, language TEXT NOT NULL, error TEXT NOT NULL,
    old_sha TEXT NOT NULL, new_sha TEXT NOT NULL, diff TEXT, fix_path TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','accepted','rejected')),
    decided_at REAL, decided_attempt INTEGER
);
CREATE INDEX IF NOT EXISTS pending_path ON pending(path);
"""

# Fixes a person took back (`mechanic revert`) or turned down (`mechanic reject`):
# the content they were made from (sha256) is not attempted again by itself, until
# the file changes or `mechanic retry FILE` (retried_at), and the same fix (new_sha)
# is never applied to that content again.
_REFUSALS_SCHEMA = """
CREATE TABLE IF NOT EXISTS refusals (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL, sha256 TEXT NOT NULL, new_sha TEXT,
    how TEXT NOT NULL, attempt_id INTEGER, rung TEXT,
    at REAL NOT NULL, retried_at REAL
);
CREATE INDEX IF NOT EXISTS refusals_path ON refusals(path);
CREATE TABLE IF NOT EXISTS fix_actions (
    id INTEGER PRIMARY KEY,
    cycle_id INTEGER, at REAL NOT NULL,
    root TEXT NOT NULL, action TEXT NOT NULL, ok INTEGER NOT NULL, detail TEXT NOT NULL,
    files TEXT NOT NULL
);
"""


def _allow_pending_outcome(db: _Connection) -> None:
    """Stores made before review mode refuse the outcome "pending" (a CHECK
    SQLite cannot alter): rebuild the attempts table once, keeping every row."""
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'attempts'").fetchone()[0]
    if "'pending'" in sql:
        return
    columns = ", ".join(row[1] for row in db.execute("PRAGMA table_info(attempts)"))
    create = re.search(r"CREATE TABLE IF NOT EXISTS attempts \(.*?\n\);", _SCHEMA, re.S)
    index = re.search(r"CREATE INDEX IF NOT EXISTS attempts_path [^;]*;", _SCHEMA)
    assert create is not None and index is not None
    db.execute("BEGIN IMMEDIATE")  # all or nothing: history is never left half-copied
    try:
        db.execute("DROP INDEX IF EXISTS attempts_path")
        db.execute("ALTER TABLE attempts RENAME TO attempts_before_review")
        db.execute(create.group(0))
        db.execute(index.group(0))
        _ensure_columns(db, "attempts", _ADDED_COLUMNS.get("attempts", {}))
        db.execute(f"INSERT INTO attempts ({columns}) SELECT {columns} FROM attempts_before_review")
        db.execute("DROP TABLE attempts_before_review")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


# Layer 1's health record (probes/health.py): every probe result, each probe's
# current health, what was done about it, and its transitions.
_PROBE_SCHEMA = """
CREATE TABLE IF NOT EXISTS probe_results (
    id INTEGER PRIMARY KEY,
    cycle_id INTEGER,  -- NULL for `mechanic probe` runs, which only look
    at REAL NOT NULL,
    name TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
    message TEXT NOT NULL, latency_ms REAL, metrics TEXT
);
CREATE INDEX IF NOT EXISTS probe_results_name ON probe_results(name, cycle_id);
CREATE TABLE IF NOT EXISTS probe_state (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    status TEXT NOT NULL, since REAL NOT NULL,
    raw_status TEXT, raw_streak INTEGER NOT NULL DEFAULT 0,
    runs INTEGER NOT NULL DEFAULT 0,
    last_message TEXT NOT NULL DEFAULT '', last_latency_ms REAL, last_at REAL,
    last_alert_run INTEGER NOT NULL DEFAULT 0,
    given_up INTEGER NOT NULL DEFAULT 0,
    window_start INTEGER NOT NULL DEFAULT 0,
    healthy_streak INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS probe_actions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL, run INTEGER NOT NULL, at REAL NOT NULL,
    action TEXT NOT NULL, ok INTEGER NOT NULL, detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS probe_events (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL, at REAL NOT NULL, kind TEXT NOT NULL,
    from_status TEXT, to_status TEXT, message TEXT NOT NULL
);
"""

# Columns added after a table first shipped: {table: {column: declaration}}. Added in
# place on open, so an existing store keeps its history without a schema version bump.
_ADDED_COLUMNS: dict[str, dict[str, str]] = {
    # Which rung of the repair ladder made the attempt, and the error's signature;
    # the intent of the write it applied (mechanic/write/journal.py), so recovery never
    # records a write twice.
    "attempts": {"rung": "TEXT", "signature": "TEXT", "intent": "TEXT"},
    # A cooldown holds the content it was set on and its error: new content, or a
    # new error, is attempted at once (a fix at 2 a.m. never blocks the 3 a.m. fault).
    "cooldowns": {"sha256": "TEXT", "signature": "TEXT"},
    # A remembered fix a person reverted or rejected is never reused nor shown again.
    "fix_memory": {"refused_at": "REAL"},
}
# One attempt row per applied write, enforced: recovery and the writer cannot both record it.
_INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS attempts_intent ON attempts(intent)"
    " WHERE intent IS NOT NULL",
)


def _ensure_columns(db: _Connection, table: str, columns: dict[str, str]) -> None:
    present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    for name, declaration in columns.items():
        if name not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


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
class FileState:
    """The last verdict on a file's content, keyed by its resolved path."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    signature: str
    clean: bool
    checked_at: float


@dataclass(frozen=True)
class LogOffset:
    """How far one log file (by device and inode) has been read. `head` is a
    hash of its first bytes, so a recycled inode or a truncated-and-refilled file
    is not mistaken for the one read before."""

    dev: int
    ino: int
    path: str
    offset: int
    head: str
    seen_at: float


@dataclass
class RuntimeErrorRecord:
    """One distinct runtime error seen in a log, by signature."""

    signature: str
    path: str
    language: str
    line: int | None
    col: int | None
    error_type: str
    message: str
    function: str
    log_path: str
    first_seen: float
    last_seen: float
    count: int = 1
    file_sha: str | None = None  # the file's content when the error was last active
    addressed_at: float | None = None  # set when the file changed after the error


@dataclass
class ProbeState:
    """The health model's view of one probe (see probes/health.py)."""

    name: str
    type: str
    status: str = "unknown"  # unknown | ok | degraded | down | error
    since: float = 0.0
    raw_status: str | None = None  # the last result's status, before fail_cycles
    raw_streak: int = 0  # cycles in a row with raw_status
    runs: int = 0  # cycles this probe has been judged in
    last_message: str = ""
    last_latency_ms: float | None = None
    last_at: float | None = None
    last_alert_run: int = 0
    given_up: bool = False
    window_start: int = 0  # actions before this run no longer count (after a reset)
    healthy_streak: int = 0


class _ProbeRecord:
    """Layer 1's part of the store, mixed into Store."""

    _db: _Connection
    _tx: Any  # Store._tx

    def record_probe_results(self, cycle_id: int | None, results: Iterable[Any]) -> None:
        """Store results; those older than PROBE_RESULT_DAYS go (health lives in probe_state)."""
        now = time.time()
        rows = [
            (
                cycle_id,
                now,
                r.name,
                r.type,
                r.status,
                r.message,
                r.latency_ms,
                json.dumps(r.metrics, default=str),
            )
            for r in results
        ]
        with self._tx() as db:
            db.executemany(
                "INSERT INTO probe_results (cycle_id, at, name, type, status, message,"
                " latency_ms, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.execute("DELETE FROM probe_results WHERE at < ?", (now - PROBE_RESULT_DAYS * 86400,))

    def last_probe_metrics(self) -> dict[str, dict[str, Any]]:
        """Each probe's metrics from its last cycle (not from `mechanic probe` runs)."""
        rows = self._db.execute(
            "SELECT name, metrics FROM probe_results WHERE id IN"
            " (SELECT MAX(id) FROM probe_results WHERE cycle_id IS NOT NULL GROUP BY name)"
        )
        return {row[0]: json.loads(row[1] or "{}") for row in rows}

    def probe_states(self) -> dict[str, ProbeState]:
        rows = self._db.execute("SELECT * FROM probe_state ORDER BY name")
        return {
            row["name"]: ProbeState(**{**dict(row), "given_up": bool(row["given_up"])})
            for row in rows
        }

    def save_probe_state(self, state: ProbeState) -> None:
        values = asdict(state)
        values["given_up"] = int(state.given_up)
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._tx() as db:
            db.execute(
                f"INSERT OR REPLACE INTO probe_state ({names}) VALUES ({marks})",
                tuple(values.values()),
            )

    def add_probe_event(self, name: str, kind: str, before: str, after: str, message: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO probe_events (name, at, kind, from_status, to_status, message)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, time.time(), kind, before, after, message),
            )

    def probe_events(self, name: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        where, args = ("WHERE name = ?", (name,)) if name else ("", ())
        rows = self._db.execute(
            f"SELECT * FROM probe_events {where} ORDER BY id DESC LIMIT ?", (*args, limit)
        )
        return [dict(row) for row in rows][::-1]

    def record_probe_action(self, name: str, run: int, action: str, ok: bool, detail: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO probe_actions (name, run, at, action, ok, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, run, time.time(), action, int(ok), detail),
            )

    def count_probe_actions(self, name: str, after_run: int) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM probe_actions WHERE name = ? AND run > ?", (name, after_run)
        ).fetchone()
        return int(row[0])

    def probe_actions(self, name: str) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM probe_actions WHERE name = ? ORDER BY id", (name,))
        return [dict(row) for row in rows]


class Store(_ProbeRecord):
    def __init__(self, connection: _Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        self.store_id: str = meta.get("store_id", "")
        # IDs below this were handed out by a store this one replaced; see _id_floor.
        self.id_floor = int(meta.get("id_floor") or 0)
        self.created_at = float(meta.get("created_at") or 0)

    @classmethod
    def open(cls, state_dir: Path) -> Store:
        """The store in `state_dir`, created (silently) if there is none yet.

        A file that is there but is not a usable mechanic store (empty, another
        program's database, corrupt, too new) raises StoreUnusable: it is never
        silently replaced, since a new store would start the history, and the
        attempt IDs people type into `mechanic revert`, over again."""
        path = state_dir / STORE_NAME
        try:
            private.make_folder(state_dir)
        except OSError as exc:
            raise StoreError(f"cannot create the state folder {state_dir}: {exc}") from exc
        if not os.path.lexists(path):
            _create(path, _id_floor(state_dir, replaced=False))
        _refuse_unusable_file(path)
        # It holds whole files and diffs: 0600 (one an older mechanic left wider is
        # narrowed). SQLite gives its -wal and -shm files the database's mode.
        for own in ("", "-wal", "-shm"):
            private.narrow_existing(path.with_name(path.name + own))
        db: _Connection | None = None
        try:
            db = _Connection(sqlite3.connect(path, timeout=10, isolation_level=None))
            _identify(db, path)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            _migrate(db, path)
            return cls(db, path)
        except sqlite3.DatabaseError as exc:
            if db is not None:
                db.close()
            raise _translate(exc, path, "use") from exc
        except BaseException:
            if db is not None:
                db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        self.close()
        if isinstance(exc, sqlite3.DatabaseError):  # a read met a broken page
            raise _translate(exc, self.path, "read") from exc

    @contextmanager
    def _tx(self) -> Iterator[_Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise _translate(exc, self.path, "write") from exc

    def _next_id(self, db: _Connection, table: str) -> int:
        """The ID the next row of `table` gets: never one a replaced store used."""
        row = db.execute(f"SELECT MAX(COALESCE(MAX(id), 0), ?) + 1 FROM {table}", (self.id_floor,))
        return int(row.fetchone()[0])

    # --- cycles -----------------------------------------------------------

    def start_cycle(self, *, dry_run: bool) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO cycles (started_at, dry_run) VALUES (?, ?)", (time.time(), dry_run)
            )
            return int(cursor.lastrowid)

    def finish_cycle(self, cycle_id: int, **counts: Any) -> None:
        allowed = {"files_seen", "files_checked", "findings", "attempts", "applied", "remaining"}
        allowed.add("error")
        unknown = set(counts) - allowed
        if unknown:
            raise ValueError(f"unknown cycle fields {sorted(unknown)}")
        columns = ", ".join(f"{name} = ?" for name in counts)
        with self._tx() as db:
            db.execute(
                f"UPDATE cycles SET finished_at = ?, {columns} WHERE id = ?",
                (time.time(), *counts.values(), cycle_id),
            )

    def finish_unfinished_cycles(self, error: str) -> list[int]:
        """Close the rows of cycles that never finished (their process was stopped
        or killed mid-cycle), so status and history do not show them as running.
        Call only while holding the cycle lock: then no cycle is under way."""
        with self._tx() as db:
            ids = [
                int(row[0])
                for row in db.execute("SELECT id FROM cycles WHERE finished_at IS NULL ORDER BY id")
            ]
            db.executemany(
                "UPDATE cycles SET finished_at = ?, error = ? WHERE id = ?",
                [(time.time(), error, cycle_id) for cycle_id in ids],
            )
        return ids

    def last_cycle(self) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM cycles ORDER BY id DESC LIMIT 1").fetchone()
        return dict(row) if row else None

    def add_findings(self, cycle_id: int, findings: Iterable[Finding]) -> None:
        rows = [
            (cycle_id, str(f.path), f.language, f.kind, f.line, f.column, scrub(f.message))
            for f in findings
        ]
        with self._tx() as db:
            db.executemany(
                "INSERT INTO findings (cycle_id, path, language, kind, line, col, message)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    # --- attempts ---------------------------------------------------------

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
        with self._tx() as db:
            values["id"] = self._next_id(db, "attempts")
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
        with self._tx() as db:
            db.execute("UPDATE attempts SET reason = ? WHERE id = ?", (scrub(reason), attempt_id))

    def mark_undone(self, attempt_id: int) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE attempts SET undone_at = ? WHERE id = ? AND undone_at IS NULL",
                (time.time(), attempt_id),
            )

    def attempt_for_intent(self, intent: str) -> int | None:
        """The attempt that recorded the write of `intent`, if one did."""
        row = self._db.execute("SELECT id FROM attempts WHERE intent = ?", (intent,)).fetchone()
        return int(row[0]) if row else None

    def totals(self) -> dict[str, Any]:
        counts = {outcome: 0 for outcome in OUTCOMES}
        for row in self._db.execute("SELECT outcome, COUNT(*) FROM attempts GROUP BY outcome"):
            counts[row[0]] = row[1]
        tokens = self._db.execute(
            "SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(answer_tokens), 0) FROM attempts"
        ).fetchone()
        cycles = self._db.execute("SELECT COUNT(*) FROM cycles").fetchone()[0]
        return {
            "cycles": cycles,
            "attempts": sum(counts.values()),
            **counts,
            "prompt_tokens": tokens[0],
            "answer_tokens": tokens[1],
        }

    # --- cooldowns --------------------------------------------------------

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
        with self._tx() as db:
            db.execute(
                "INSERT INTO cooldowns (path, until, attempt_id, sha256, signature)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(path) DO UPDATE SET until = excluded.until,"
                " attempt_id = excluded.attempt_id, sha256 = excluded.sha256,"
                " signature = excluded.signature",
                (path, until, attempt_id, sha256, signature),
            )

    def clear_cooldown(self, path: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM cooldowns WHERE path = ?", (path,))

    def cooldowns(self, now: float | None = None) -> dict[str, float]:
        """Files still cooling down, with the time their cooldown ends."""
        return {path: row["until"] for path, row in self.cooldown_rows(now).items()}

    def cooldown_rows(self, now: float | None = None) -> dict[str, dict[str, Any]]:
        """Files still cooling down: path -> until, sha256, signature, attempt_id."""
        now = time.time() if now is None else now
        rows = self._db.execute("SELECT * FROM cooldowns WHERE until > ?", (now,))
        return {row["path"]: dict(row) for row in rows}

    # --- clean-check cache ------------------------------------------------

    def file_states(self) -> dict[str, FileState]:
        rows = self._db.execute("SELECT * FROM file_state")
        return {
            row["path"]: FileState(**{**dict(row), "clean": bool(row["clean"])}) for row in rows
        }

    def save_file_states(self, states: Iterable[FileState]) -> None:
        rows = [
            (s.path, s.size, s.mtime_ns, s.sha256, s.signature, int(s.clean), s.checked_at)
            for s in states
        ]
        if not rows:
            return
        with self._tx() as db:
            db.executemany(
                "INSERT INTO file_state VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE"
                " SET size = excluded.size, mtime_ns = excluded.mtime_ns,"
                " sha256 = excluded.sha256, signature = excluded.signature,"
                " clean = excluded.clean, checked_at = excluded.checked_at",
                rows,
            )

    # --- runtime errors from logs ------------------------------------------

    def log_offsets(self) -> dict[tuple[int, int], LogOffset]:
        rows = self._db.execute("SELECT * FROM log_offsets")
        return {(row["dev"], row["ino"]): LogOffset(**dict(row)) for row in rows}

    def save_log_offsets(self, offsets: Iterable[LogOffset]) -> None:
        rows = [(o.dev, o.ino, o.path, o.offset, o.head, o.seen_at) for o in offsets]
        if not rows:
            return
        with self._tx() as db:
            db.executemany(
                "INSERT INTO log_offsets VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(dev, ino)"
                " DO UPDATE SET path = excluded.path, offset = excluded.offset,"
                " head = excluded.head, seen_at = excluded.seen_at",
                rows,
            )

    def drop_log_offsets(self, keys: Iterable[tuple[int, int]]) -> None:
        with self._tx() as db:
            db.executemany("DELETE FROM log_offsets WHERE dev = ? AND ino = ?", list(keys))

    def note_runtime_error(self, error: RuntimeErrorRecord) -> RuntimeErrorRecord:
        """Count one more sighting of an error. A sighting that is still active
        (addressed_at None) makes the error active again with the new location;
        a stale one (older than the file's last change) only adds to the count."""
        values = asdict(error)
        values["message"] = scrub(values["message"])
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._tx() as db:
            db.execute(
                f"INSERT INTO runtime_errors ({names}) VALUES ({marks})"
                " ON CONFLICT(signature) DO UPDATE SET"
                " count = count + excluded.count,"
                " last_seen = MAX(last_seen, excluded.last_seen),"
                " first_seen = MIN(first_seen, excluded.first_seen),"
                " path = CASE WHEN excluded.addressed_at IS NULL THEN excluded.path ELSE path END,"
                " line = CASE WHEN excluded.addressed_at IS NULL THEN excluded.line ELSE line END,"
                " col = CASE WHEN excluded.addressed_at IS NULL THEN excluded.col ELSE col END,"
                " message = CASE WHEN excluded.addressed_at IS NULL"
                " THEN excluded.message ELSE message END,"
                " log_path = excluded.log_path,"
                " file_sha = CASE WHEN excluded.addressed_at IS NULL"
                " THEN excluded.file_sha ELSE file_sha END,"
                " addressed_at = CASE WHEN excluded.addressed_at IS NULL THEN NULL"
                " ELSE addressed_at END",
                tuple(values.values()),
            )
            row = db.execute(
                "SELECT * FROM runtime_errors WHERE signature = ?", (error.signature,)
            ).fetchone()
        return RuntimeErrorRecord(**dict(row))

    def runtime_errors(self, *, active_only: bool = True) -> list[RuntimeErrorRecord]:
        where = " WHERE addressed_at IS NULL" if active_only else ""
        rows = self._db.execute(f"SELECT * FROM runtime_errors{where} ORDER BY last_seen DESC")
        return [RuntimeErrorRecord(**dict(row)) for row in rows]

    def mark_runtime_addressed(self, signatures: Iterable[str], when: float) -> None:
        with self._tx() as db:
            db.executemany(
                "UPDATE runtime_errors SET addressed_at = ? WHERE signature = ?",
                [(when, signature) for signature in signatures],
            )

    # --- review mode ------------------------------------------------------

    def add_pending(self, attempt: AttemptRecord, fix_path: Path) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO pending (id, attempt_id, created_at, path, language, error, old_sha,"
                " new_sha, diff, fix_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self._next_id(db, "pending"),
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
            return int(cursor.lastrowid)

    def pending(self, *, status: str | None = "pending") -> list[dict[str, Any]]:
        query, args = "SELECT * FROM pending", ()
        if status is not None:
            query, args = query + " WHERE status = ?", (status,)
        return [dict(row) for row in self._db.execute(query + " ORDER BY id", args)]

    def pending_patch(self, patch_id: int) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM pending WHERE id = ?", (patch_id,)).fetchone()
        return dict(row) if row else None

    def decide_pending(self, patch_id: int, status: str, attempt_id: int | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE pending SET status = ?, decided_at = ?, decided_attempt = ? WHERE id = ?",
                (status, time.time(), attempt_id, patch_id),
            )

    # --- last good versions -----------------------------------------------

    def save_good_versions(self, versions: Iterable[tuple[str, str, bytes]]) -> None:
        """Remember (path, sha256, bytes) as each file's last version that passed its
        check; compressed, since every watched file has one."""
        rows = [(p, sha, zlib.compress(data, 1), time.time()) for p, sha, data in versions]
        if not rows:
            return
        with self._tx() as db:
            db.executemany(
                "INSERT INTO good_versions VALUES (?, ?, ?, ?) ON CONFLICT(path) DO UPDATE"
                " SET sha256 = excluded.sha256, content = excluded.content,"
                " saved_at = excluded.saved_at WHERE good_versions.sha256 != excluded.sha256",
                rows,
            )

    def good_version(self, path: str) -> tuple[str, bytes, float] | None:
        """The last version of `path` that passed its check: (sha256, bytes, saved_at)."""
        row = self._db.execute(
            "SELECT sha256, content, saved_at FROM good_versions WHERE path = ?", (path,)
        ).fetchone()
        if row is None:
            return None
        return row[0], zlib.decompress(row[1]), row[2]

    def good_version_shas(self) -> dict[str, str]:
        return {
            row[0]: row[1] for row in self._db.execute("SELECT path, sha256 FROM good_versions")
        }

    # --- repair memory ----------------------------------------------------

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
        with self._tx() as db:
            db.execute(
                "INSERT INTO fix_memory (language, signature, root, path, error, before, after,"
                " attempt_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (language, signature, root, path, error, before, after, attempt_id, time.time()),
            )

    def remembered_fixes(self, language: str, signature: str, limit: int = 20) -> list[dict]:
        """Past fixes of the same error signature, newest first."""
        rows = self._db.execute(
            "SELECT * FROM fix_memory WHERE language = ? AND signature = ?"
            " AND refused_at IS NULL ORDER BY id DESC LIMIT ?",
            (language, signature, limit),
        )
        return [dict(row) for row in rows]

    def fix_examples(self, language: str, path: str, root: str | None, limit: int) -> list[dict]:
        """Past fixes to show a model: the same file first, then the same project."""
        rows = self._db.execute(
            "SELECT * FROM fix_memory WHERE language = ? AND (path = ? OR root IS ?)"
            " AND refused_at IS NULL ORDER BY (path = ?) DESC, id DESC LIMIT ?",
            (language, path, root, path, limit),
        )
        return [dict(row) for row in rows]

    # --- fixes a person refused (revert, reject) -----------------------------

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
        with self._tx() as db:
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

    def refusals(self, path: str, sha256: str) -> list[dict[str, Any]]:
        """Fixes refused for this content of `path`, newest first (retried ones too)."""
        rows = self._db.execute(
            "SELECT * FROM refusals WHERE path = ? AND sha256 = ? ORDER BY id DESC",
            (path, sha256),
        )
        return [dict(row) for row in rows]

    def retry(self, path: str) -> int:
        """`mechanic retry FILE`: lift every hold a refusal put on `path`; how many."""
        with self._tx() as db:
            cursor = db.execute(
                "UPDATE refusals SET retried_at = ? WHERE path = ? AND retried_at IS NULL",
                (time.time(), path),
            )
            return int(cursor.rowcount)

    # --- on_fix actions (probes/remediation.py) ---------------------------

    def record_fix_action(self, cycle_id: int | None, action: Any) -> int:
        with self._tx() as db:
            cursor = db.execute(
                "INSERT INTO fix_actions (cycle_id, at, root, action, ok, detail, files)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    cycle_id,
                    time.time(),
                    action.root,
                    action.action,
                    int(action.ok),
                    action.detail,
                    json.dumps(action.files),
                ),
            )
            return int(cursor.lastrowid)

    def fix_actions(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest on_fix actions, newest first."""
        rows = self._db.execute("SELECT * FROM fix_actions ORDER BY id DESC LIMIT ?", (limit,))
        return [
            {**dict(row), "ok": bool(row["ok"]), "files": json.loads(row["files"])} for row in rows
        ]

    # --- three strikes and files that need a person ------------------------

    def failed_attempts(self, path: str, old_sha: str) -> int:
        """Failed tries on this exact content of `path` (a changed file starts over)."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM attempts WHERE path = ? AND old_sha = ?"
            " AND (outcome IN ('reverted', 'rejected')"
            " OR (outcome = 'skipped' AND prompt_tokens IS NOT NULL))",
            (path, old_sha),
        ).fetchone()
        return int(row[0])

    def mark_needs_person(self, path: str, sha: str, kind: str, reason: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO needs_person VALUES (?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE"
                " SET sha256 = excluded.sha256, kind = excluded.kind,"
                " reason = excluded.reason, since = excluded.since",
                (path, sha, kind, scrub(reason), time.time()),
            )

    def clear_needs_person(self, path: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM needs_person WHERE path = ?", (path,))

    def needs_person(self) -> dict[str, dict[str, Any]]:
        """Files mechanic gave up on until they change: path -> sha256, kind, reason, since."""
        rows = self._db.execute("SELECT * FROM needs_person ORDER BY path")
        return {row["path"]: dict(row) for row in rows}

    def rung_stats(self) -> list[dict[str, Any]]:
        """Per rung of the ladder: attempts, fixes, fix rate, tokens and time spent."""
        rows = self._db.execute(
            "SELECT COALESCE(rung, 'whole') AS rung, COUNT(*) AS attempts,"
            " SUM(outcome = 'applied') AS applied,"
            " COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,"
            " COALESCE(SUM(answer_tokens), 0) AS answer_tokens,"
            " COALESCE(SUM(duration_s), 0) AS seconds"
            " FROM attempts WHERE rung IS NOT NULL OR prompt_tokens IS NOT NULL"
            " GROUP BY COALESCE(rung, 'whole') ORDER BY MIN(id)"
        )
        stats = []
        for row in rows:
            item = dict(row)
            item["fix_rate"] = (
                round(item["applied"] / item["attempts"], 3) if item["attempts"] else 0
            )
            item["seconds"] = round(item["seconds"], 3)
            stats.append(item)
        return stats


def _attempt(row: sqlite3.Row) -> AttemptRecord:
    names = {f.name for f in fields(AttemptRecord)}
    return AttemptRecord(**{key: row[key] for key in row.keys() if key in names})  # noqa: SIM118


# --- the file itself: opening, creating, checking, rebuilding ----------------
#
# Each store has an id (a UUID in meta, made when the store is created) and an
# ID floor: a store that replaces another (rebuilt by `mechanic store check
# --rebuild`, or re-created after its file was deleted) hands out attempt and
# patch IDs above every ID the old one is known to have used, so an ID a person
# read in an old message never names a different attempt.

STORE_NAME = "mechanic.sqlite3"
ID_BLOCK = 1000  # a replacing store's IDs start at the next multiple of this
_SQLITE_HEADER = b"SQLite format 3\x00"
_BINARY_COLUMNS = frozenset({"content"})  # columns whose BLOBs are data, not names
_TRACE_ID = re.compile(rb'"(?:attempt|patch|attempt_id)": ?(\d{1,12})\b')


def _bind(value: Any) -> Any:
    """A parameter as SQLite keeps it exactly. TEXT must be valid UTF-8, and a
    file name that is not (a str holding os.fsdecode's surrogate escapes) would
    raise; it goes in as a BLOB of its bytes instead, which _row decodes back."""
    if isinstance(value, str) and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            try:
                return os.fsencode(value)
            except UnicodeEncodeError:  # a lone surrogate no file name can hold
                return value.encode("utf-8", "surrogatepass")
    return value


def _params(params: Any) -> Any:
    if isinstance(params, dict):
        return {key: _bind(value) for key, value in params.items()}
    return tuple(_bind(value) for value in params)


def _row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> sqlite3.Row:
    if any(type(value) is bytes for value in values):
        names = [column[0] for column in cursor.description]
        values = tuple(
            os.fsdecode(value)
            if type(value) is bytes and names[index] not in _BINARY_COLUMNS
            else value
            for index, value in enumerate(values)
        )
    return sqlite3.Row(cursor, values)


class _Connection:
    """A sqlite3 connection that stores any str exactly (see _bind and _row)."""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw
        raw.row_factory = _row

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.raw.execute(sql, _params(params))

    def executemany(self, sql: str, rows: Iterable[Any]) -> sqlite3.Cursor:
        return self.raw.executemany(sql, (_params(row) for row in rows))

    def executescript(self, script: str) -> sqlite3.Cursor:
        return self.raw.executescript(script)

    def close(self) -> None:
        self.raw.close()


def _translate(exc: sqlite3.DatabaseError, path: Path, doing: str) -> StoreError:
    """A corrupt file stops everything until repaired (StoreUnusable, exit 2); a
    busy or unwritable one is a StoreError for this run only."""
    name = getattr(exc, "sqlite_errorname", "")
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in str(exc):
        return StoreUnusable(f"the state store {path} is corrupt ({exc})")
    return StoreError(f"cannot {doing} the state store {path}: {exc}")


def _refuse_unusable_file(path: Path) -> None:
    """An empty or non-SQLite file, judged before SQLite would quietly take an
    empty file for a new database."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_SQLITE_HEADER))
    except IsADirectoryError:
        raise StoreUnusable(f"the state store {path} is a folder, not a file") from None
    except OSError as exc:
        raise StoreError(f"cannot read the state store {path}: {exc.strerror or exc}") from exc
    if not head:
        raise StoreUnusable(
            f"the state store {path} is empty (0 bytes): its history, and the attempt IDs"
            " it handed out, are gone"
        )
    if head != _SQLITE_HEADER:
        raise StoreUnusable(f"the state store {path} is not a SQLite database (corrupt)")


def _identify(db: _Connection, path: Path) -> None:
    """Refuse a database that holds nothing, or that is another program's."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        raise StoreUnusable(f"the state store {path} is an empty database: its history is gone")
    if "meta" not in tables and "attempts" not in tables:  # stores before meta had attempts
        listed = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreUnusable(
            f"{path} is another program's SQLite database (tables: {listed}), not a mechanic store",
            repair="point mechanic.state_dir at another folder, or keep this file aside and"
            f" start a new store: {StoreUnusable.REBUILD}",
        )


def _migrate(db: _Connection, path: Path) -> None:
    """Bring any mechanic store, old or new, to this version's tables; give a
    store made before store ids its id."""
    db.executescript(_SCHEMA)
    db.executescript(_SIGNALS_SCHEMA)
    db.executescript(_REVIEW_SCHEMA)
    db.executescript(_PROBE_SCHEMA)
    db.executescript(_REFUSALS_SCHEMA)
    for table, columns in _ADDED_COLUMNS.items():
        _ensure_columns(db, table, columns)
    _allow_pending_outcome(db)
    for index in _INDEXES:
        db.execute(index)
    found = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if found is not None and int(found[0]) > SCHEMA_VERSION:
        raise StoreUnusable(
            f"{path} was written by a newer mechanic (schema {found[0]}, this one knows"
            f" {SCHEMA_VERSION})",
            repair="upgrade mechanic",
        )
    db.execute(
        "INSERT OR IGNORE INTO meta VALUES ('schema', ?), ('store_id', ?), ('created_at', ?)",
        (str(SCHEMA_VERSION), str(uuid.uuid4()), repr(time.time())),
    )


def _create(path: Path, id_floor: int) -> None:
    """Make a new store at `path`, whole: it is built under a private name and
    linked into place, so no process ever opens a half-made (or 0-byte) store,
    and two processes creating one at once end up sharing the first."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.new")
    try:
        private.own_file(temp)  # 0600 from the start, whatever the umask
        db = _Connection(sqlite3.connect(temp, isolation_level=None))
        try:
            _migrate(db, temp)  # rollback journal: the file is complete at each commit
            db.execute("INSERT INTO meta VALUES ('id_floor', ?)", (str(id_floor),))
        finally:
            db.close()
        try:
            os.link(temp, path)
        except FileExistsError:
            pass  # another process made it first: everyone uses that one
        except OSError:  # no hard links on this file system
            if not os.path.lexists(path):
                os.rename(temp, path)
        fsync_dir(path.parent)
    except (OSError, sqlite3.DatabaseError) as exc:
        raise StoreError(f"cannot create the state store {path}: {exc}") from exc
    finally:
        for leftover in (temp, temp.with_name(temp.name + "-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _highest_id(path: Path) -> int:
    """The highest attempt or patch ID in the store file at `path` (or its ID
    floor), read as far as the file allows; 0 when nothing can be read."""
    highest = 0
    for query in ("?mode=ro", "?mode=ro&immutable=1"):
        try:
            db = sqlite3.connect(path.absolute().as_uri() + query, uri=True)
        except (sqlite3.Error, ValueError):
            continue
        try:
            for sql in (
                "SELECT MAX(id) FROM attempts",
                "SELECT MAX(id) FROM pending",
                "SELECT value FROM meta WHERE key = 'id_floor'",
            ):
                with contextlib.suppress(sqlite3.Error, TypeError, ValueError):
                    highest = max(highest, int(db.execute(sql).fetchone()[0] or 0))
        finally:
            db.close()
    return highest


def _id_floor(state_dir: Path, *, replaced: bool) -> int:
    """Where a new store's IDs start: above every attempt or patch ID the state
    folder shows a trace of (the log, stores kept aside); 0 in a new folder.
    `replaced` says a store was there, even if nothing of it can be read."""
    highest = 0
    for log in sorted(state_dir.glob("mechanic.log*")):
        with contextlib.suppress(OSError):
            for match in _TRACE_ID.finditer(log.read_bytes()):
                highest = max(highest, int(match.group(1)))
    for kept in sorted(state_dir.glob(f"{STORE_NAME}.*.old")):
        replaced = True  # even an unreadable one was a store
        highest = max(highest, _highest_id(kept))
    if highest == 0 and not replaced:
        return 0
    return (highest // ID_BLOCK + 1) * ID_BLOCK


@dataclass
class StoreReport:
    """What `mechanic store check` found in a state folder's store."""

    path: Path
    exists: bool
    problem: str | None = None  # None: the store is usable
    repair: str | None = None
    integrity: str = ""  # "ok", or what SQLite's integrity_check found
    size: int = 0
    schema: int | None = None
    store_id: str = ""
    created_at: float | None = None
    id_floor: int = 0
    attempts: int = 0
    highest_attempt: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path), "usable": self.problem is None}


def check_store(state_dir: Path) -> StoreReport:
    """Judge the store in `state_dir` without creating one: whether it opens as a
    mechanic store, and SQLite's full integrity check."""
    path = state_dir / STORE_NAME
    if not os.path.lexists(path):
        return StoreReport(path, exists=False)
    report = StoreReport(path, exists=True)
    with contextlib.suppress(OSError):
        report.size = path.stat().st_size
    try:
        with Store.open(state_dir) as store:
            rows = [str(row[0]) for row in store._db.execute("PRAGMA integrity_check(20)")]
            schema = store._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            count, highest = store._db.execute("SELECT COUNT(*), MAX(id) FROM attempts").fetchone()
    except StoreUnusable as exc:
        report.problem, report.repair = exc.problem, exc.repair
        return report
    report.integrity = "; ".join(rows)
    report.schema = int(schema[0]) if schema else None
    report.store_id, report.created_at = store.store_id, store.created_at or None
    report.id_floor = store.id_floor
    report.attempts, report.highest_attempt = int(count), highest
    if rows != ["ok"]:
        report.problem = f"the state store {path} fails SQLite's integrity check"
        report.repair = f"keep it aside and start a new store: {StoreUnusable.REBUILD}"
    return report


def rebuild_store(state_dir: Path) -> tuple[Path, Store]:
    """Keep the store file (and its WAL) aside under a timestamped name and
    create a new, empty store whose IDs start above the old one's. Returns the
    name the old file was kept under and the new store (opened). Call only under
    the cycle lock, so no cycle is writing to the old file."""
    path = state_dir / STORE_NAME
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    kept = path.with_name(f"{path.name}.{stamp}.old")
    counter = 1
    while os.path.lexists(kept):
        counter += 1
        kept = path.with_name(f"{path.name}.{stamp}-{counter}.old")
    try:
        os.rename(path, kept)
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.rename(f"{path}{suffix}", f"{kept}{suffix}")
        fsync_dir(state_dir)
    except OSError as exc:
        raise StoreError(f"cannot keep {path} aside: {exc.strerror or exc}") from exc
    _create(path, _id_floor(state_dir, replaced=True))
    return kept, Store.open(state_dir)
