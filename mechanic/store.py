"""The record: the only module that talks to the database (SQLite in state_dir).

It keeps what each cycle found and tried, per-file cooldowns, and the clean
verdicts that let a warm cycle skip files whose content has not changed.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from mechanic.checkers.base import Finding
from mechanic.errors import StoreError

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

# Runtime errors from logs (mechanic/errorlog.py): how far each log file has been
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

# Review mode (mechanic/review.py): validated fixes waiting for a person. The fixed
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


def _allow_pending_outcome(db: sqlite3.Connection) -> None:
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


# Layer 1's health record (mechanic/health.py): every probe result, each probe's
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
    # Which rung of the repair ladder made the attempt, and the error's signature.
    "attempts": {"rung": "TEXT", "signature": "TEXT"},
}


def _ensure_columns(db: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
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
    """The health model's view of one probe (see mechanic/health.py)."""

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

    _db: sqlite3.Connection
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
    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, state_dir: Path) -> Store:
        path = state_dir / "mechanic.sqlite3"
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=10, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            db.executescript(_SIGNALS_SCHEMA)
            db.executescript(_REVIEW_SCHEMA)
            db.executescript(_PROBE_SCHEMA)
            for table, columns in _ADDED_COLUMNS.items():
                _ensure_columns(db, table, columns)
            _allow_pending_outcome(db)
            found = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
            if found is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(found[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"{path} was written by a newer mechanic (schema {found[0]}); upgrade mechanic"
                )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use the state store {path}: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"cannot create the state folder {state_dir}: {exc}") from exc
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot write the state store {self.path}: {exc}") from exc

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
            (cycle_id, str(f.path), f.language, f.kind, f.line, f.column, f.message)
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
        values = attempt.to_dict()
        values.pop("id")
        values["started_at"] = values["started_at"] or time.time()
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._tx() as db:
            cursor = db.execute(
                f"INSERT INTO attempts ({names}) VALUES ({marks})", tuple(values.values())
            )
        attempt.id = int(cursor.lastrowid)
        return attempt.id

    def attempt(self, attempt_id: int) -> AttemptRecord | None:
        row = self._db.execute("SELECT * FROM attempts WHERE id = ?", (attempt_id,)).fetchone()
        return _attempt(row) if row else None

    def recent_attempts(self, limit: int = 10) -> list[AttemptRecord]:
        rows = self._db.execute("SELECT * FROM attempts ORDER BY id DESC LIMIT ?", (limit,))
        return [_attempt(row) for row in rows]

    def set_attempt_reason(self, attempt_id: int | None, reason: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE attempts SET reason = ? WHERE id = ?", (reason, attempt_id))

    def mark_undone(self, attempt_id: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE attempts SET undone_at = ? WHERE id = ?", (time.time(), attempt_id))

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

    def set_cooldown(self, path: str, until: float, attempt_id: int | None) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO cooldowns (path, until, attempt_id) VALUES (?, ?, ?)"
                " ON CONFLICT(path) DO UPDATE SET until = excluded.until,"
                " attempt_id = excluded.attempt_id",
                (path, until, attempt_id),
            )

    def cooldowns(self, now: float | None = None) -> dict[str, float]:
        """Files still cooling down, with the time their cooldown ends."""
        now = time.time() if now is None else now
        rows = self._db.execute("SELECT path, until FROM cooldowns WHERE until > ?", (now,))
        return {row[0]: row[1] for row in rows}

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
                "INSERT INTO pending (attempt_id, created_at, path, language, error, old_sha,"
                " new_sha, diff, fix_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
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
            " ORDER BY id DESC LIMIT ?",
            (language, signature, limit),
        )
        return [dict(row) for row in rows]

    def fix_examples(self, language: str, path: str, root: str | None, limit: int) -> list[dict]:
        """Past fixes to show a model: the same file first, then the same project."""
        rows = self._db.execute(
            "SELECT * FROM fix_memory WHERE language = ? AND (path = ? OR root IS ?)"
            " ORDER BY (path = ?) DESC, id DESC LIMIT ?",
            (language, path, root, path, limit),
        )
        return [dict(row) for row in rows]

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
                (path, sha, kind, reason, time.time()),
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
