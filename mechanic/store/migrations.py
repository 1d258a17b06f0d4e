"""The store's schema, as numbered steps: each runs once per store and is
recorded, by name, in the table `_mechanic_migrations` (as simonw's `llm` does
with `_llm_migrations`).

A step, once released, is never edited: a change to the schema is a new step
at the end. A store from before numbered steps (release 0.1.0 and earlier,
with whatever tables and columns its version made) is adopted by the first
steps, which create only what is missing; no row is lost. A store that records
a step this code does not know was written by a newer mechanic and is refused.

The SQL is portable (standard DDL, `?` parameters, ON CONFLICT), except where a
comment names a SQLite-ism: `INTEGER PRIMARY KEY` hands out ids as SQLite's
rowid (PostgreSQL: GENERATED ... AS IDENTITY), REAL and BLOB are SQLite's
names for DOUBLE PRECISION and BYTEA.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from mechanic.errors import StoreUnusable
from mechanic.store.connection import Connection

Migration = Callable[[Connection], None]
MIGRATIONS: list[Migration] = []
TABLE = "_mechanic_migrations"


def migration(step: Migration) -> Migration:
    """Add `step` as the next migration; its name (mNNN_what) is what is recorded."""
    MIGRATIONS.append(step)
    return step


def latest() -> int:
    """The number of the newest step this code knows (shown as the store's schema)."""
    return len(MIGRATIONS)


def _add_columns(db: Connection, table: str, columns: dict[str, str]) -> None:
    """Add the columns `table` lacks. A store from before numbered steps may have
    some already (its version added them in place on open)."""
    present = db.columns(table)
    for name, declaration in columns.items():
        if name not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")


# The attempts table as it is today. m005 rebuilds it from this; a later change
# to attempts is a new step, and this text stays as m005 ran it.
_ATTEMPTS = """
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY,
    cycle_id INTEGER REFERENCES cycles(id),
    started_at REAL NOT NULL,
    path TEXT NOT NULL, language TEXT NOT NULL, error TEXT NOT NULL,
    backend TEXT, model TEXT,
    prompt_tokens INTEGER, answer_tokens INTEGER, duration_s REAL,
    outcome TEXT NOT NULL CHECK (outcome IN ('applied','reverted','rejected','skipped','pending')),
    reason TEXT, backup_path TEXT, diff TEXT, old_sha TEXT, new_sha TEXT,
    undone_at REAL,
    rung TEXT, signature TEXT, intent TEXT
)"""


@migration
def m001_tables(db: Connection) -> None:
    """Every table as release 0.1.0 first made it; those a store has are kept."""
    for statement in (
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE IF NOT EXISTS cycles (
            id INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            finished_at REAL,
            dry_run INTEGER NOT NULL DEFAULT 0,
            files_seen INTEGER, files_checked INTEGER, findings INTEGER,
            attempts INTEGER, applied INTEGER, remaining INTEGER,
            error TEXT
        )""",
        """CREATE TABLE IF NOT EXISTS findings (
            id INTEGER PRIMARY KEY,
            cycle_id INTEGER NOT NULL REFERENCES cycles(id),
            path TEXT NOT NULL, language TEXT NOT NULL, kind TEXT NOT NULL,
            line INTEGER, col INTEGER, message TEXT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS attempts (
            id INTEGER PRIMARY KEY,
            cycle_id INTEGER REFERENCES cycles(id),
            started_at REAL NOT NULL,
            path TEXT NOT NULL, language TEXT NOT NULL, error TEXT NOT NULL,
            backend TEXT, model TEXT,
            prompt_tokens INTEGER, answer_tokens INTEGER, duration_s REAL,
            outcome TEXT NOT NULL CHECK (outcome IN ('applied','reverted','rejected','skipped')),
            reason TEXT, backup_path TEXT, diff TEXT, old_sha TEXT, new_sha TEXT,
            undone_at REAL
        )""",
        "CREATE INDEX IF NOT EXISTS attempts_path ON attempts(path)",
        """CREATE TABLE IF NOT EXISTS cooldowns (
            path TEXT PRIMARY KEY, until REAL NOT NULL, attempt_id INTEGER
        )""",
        # The last verdict on each file's content: a warm cycle skips unchanged files.
        """CREATE TABLE IF NOT EXISTS file_state (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL,
            signature TEXT NOT NULL, clean INTEGER NOT NULL, checked_at REAL NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS good_versions (
            path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, content BLOB NOT NULL,
            saved_at REAL NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS fix_memory (
            id INTEGER PRIMARY KEY,
            language TEXT NOT NULL, signature TEXT NOT NULL, root TEXT, path TEXT NOT NULL,
            error TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL,
            attempt_id INTEGER, created_at REAL NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS fix_memory_signature ON fix_memory(language, signature)",
        """CREATE TABLE IF NOT EXISTS needs_person (
            path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, kind TEXT NOT NULL,
            reason TEXT NOT NULL, since REAL NOT NULL
        )""",
        # Runtime errors from logs (mechanic/detect/errorlog.py): how far each log
        # file has been read, by device and inode so a rotated (renamed) file keeps
        # its place; and each distinct error by signature, active until its file changes.
        # `offset` is a reserved word in PostgreSQL: the fleet's port renames it.
        """CREATE TABLE IF NOT EXISTS log_offsets (
            dev INTEGER NOT NULL, ino INTEGER NOT NULL, path TEXT NOT NULL,
            offset INTEGER NOT NULL, head TEXT NOT NULL, seen_at REAL NOT NULL,
            PRIMARY KEY (dev, ino)
        )""",
        """CREATE TABLE IF NOT EXISTS runtime_errors (
            signature TEXT PRIMARY KEY,
            path TEXT NOT NULL, language TEXT NOT NULL, line INTEGER, col INTEGER,
            error_type TEXT NOT NULL, message TEXT NOT NULL, function TEXT NOT NULL,
            log_path TEXT NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL,
            count INTEGER NOT NULL, file_sha TEXT, addressed_at REAL
        )""",
        # Review mode (mechanic/write/review.py): validated fixes waiting for a
        # person. The fixed bytes live in <backup_dir>/pending/, named by their hash.
        """CREATE TABLE IF NOT EXISTS pending (
            id INTEGER PRIMARY KEY,
            attempt_id INTEGER, created_at REAL NOT NULL,
            path TEXT NOT NULL, language TEXT NOT NULL, error TEXT NOT NULL,
            old_sha TEXT NOT NULL, new_sha TEXT NOT NULL, diff TEXT, fix_path TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending','accepted','rejected')),
            decided_at REAL, decided_attempt INTEGER
        )""",
        "CREATE INDEX IF NOT EXISTS pending_path ON pending(path)",
        # Layer 1's health record (probes/health.py): every probe result, each
        # probe's current health, what was done about it, and its transitions.
        """CREATE TABLE IF NOT EXISTS probe_results (
            id INTEGER PRIMARY KEY,
            cycle_id INTEGER,
            at REAL NOT NULL,
            name TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
            message TEXT NOT NULL, latency_ms REAL, metrics TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS probe_results_name ON probe_results(name, cycle_id)",
        """CREATE TABLE IF NOT EXISTS probe_state (
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
        )""",
        """CREATE TABLE IF NOT EXISTS probe_actions (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL, run INTEGER NOT NULL, at REAL NOT NULL,
            action TEXT NOT NULL, ok INTEGER NOT NULL, detail TEXT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS probe_events (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL, at REAL NOT NULL, kind TEXT NOT NULL,
            from_status TEXT, to_status TEXT, message TEXT NOT NULL
        )""",
        # Fixes a person took back (revert) or turned down (reject); see holds.py.
        """CREATE TABLE IF NOT EXISTS refusals (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL, sha256 TEXT NOT NULL, new_sha TEXT,
            how TEXT NOT NULL, attempt_id INTEGER, rung TEXT,
            at REAL NOT NULL, retried_at REAL
        )""",
        "CREATE INDEX IF NOT EXISTS refusals_path ON refusals(path)",
        # on_fix actions (probes/remediation.py).
        """CREATE TABLE IF NOT EXISTS fix_actions (
            id INTEGER PRIMARY KEY,
            cycle_id INTEGER, at REAL NOT NULL,
            root TEXT NOT NULL, action TEXT NOT NULL, ok INTEGER NOT NULL,
            detail TEXT NOT NULL, files TEXT NOT NULL
        )""",
    ):
        db.execute(statement)


@migration
def m002_attempt_rung_signature_intent(db: Connection) -> None:
    """Which rung made an attempt, its error's signature (without positions), and
    the intent of the write it applied (mechanic/write/journal.py)."""
    _add_columns(db, "attempts", {"rung": "TEXT", "signature": "TEXT", "intent": "TEXT"})


@migration
def m003_cooldown_content(db: Connection) -> None:
    """A cooldown holds the content and error it was set on: new content, or a new
    error, is attempted at once (a fix at 2 a.m. never blocks the 3 a.m. fault)."""
    _add_columns(db, "cooldowns", {"sha256": "TEXT", "signature": "TEXT"})


@migration
def m004_refused_memory(db: Connection) -> None:
    """A remembered fix a person reverted or rejected is never reused nor shown."""
    _add_columns(db, "fix_memory", {"refused_at": "REAL"})


@migration
def m005_attempts_allow_pending(db: Connection) -> None:
    """Review mode records the outcome "pending", which m001's CHECK refuses.
    SQLite cannot alter a CHECK, so the table is rebuilt, every row copied
    (in the one transaction every step runs in: never half-copied). The
    rebuild is portable SQL; PostgreSQL could alter the constraint instead."""
    columns = ", ".join(sorted(db.columns("attempts")))
    db.execute("DROP INDEX IF EXISTS attempts_path")
    db.execute("DROP INDEX IF EXISTS attempts_intent")  # made in place by 0.1.0
    db.execute("ALTER TABLE attempts RENAME TO attempts_before_review")
    db.execute(_ATTEMPTS)
    db.execute(f"INSERT INTO attempts ({columns}) SELECT {columns} FROM attempts_before_review")
    db.execute("DROP TABLE attempts_before_review")
    db.execute("CREATE INDEX attempts_path ON attempts(path)")


@migration
def m006_one_attempt_per_intent(db: Connection) -> None:
    """One attempt row per applied write, enforced: recovery and the writer cannot
    both record it."""
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS attempts_intent ON attempts(intent)"
        " WHERE intent IS NOT NULL"
    )


def applied(db: Connection) -> list[str]:
    """The names of the steps this store records, oldest first; [] for a store
    from before numbered steps (or a new one)."""
    if TABLE not in db.tables():
        return []
    return [row[0] for row in db.execute(f"SELECT name FROM {TABLE} ORDER BY number")]


def _refuse_newer(db: Connection, done: list[str]) -> None:
    known = {step.__name__ for step in MIGRATIONS}
    unknown = [name for name in done if name not in known]
    schema = None
    if "meta" in db.tables():
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        schema = int(row[0]) if row and str(row[0]).isdigit() else None
    if unknown or (schema is not None and schema > latest()):
        what = f"migration {unknown[-1]}" if unknown else f"schema {schema}"
        raise StoreUnusable(
            f"{db.path} was written by a newer mechanic ({what}; this one knows up to"
            f" {MIGRATIONS[-1].__name__}, schema {latest()})",
            repair="upgrade mechanic",
        )


def migrate(db: Connection) -> list[str]:
    """Run the steps this store has not had, in order, each recorded as it runs,
    all in one transaction (a second process opening the store at the same time
    waits, then finds them done). Returns the names of the steps run."""
    done = applied(db)
    _refuse_newer(db, done)
    if len(done) == len(MIGRATIONS):
        return []  # the usual open: nothing to do, nothing written
    ran: list[str] = []
    with db.tx():
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (number INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL UNIQUE, applied_at REAL NOT NULL)"
        )
        done = applied(db)  # again, under the write lock
        _refuse_newer(db, done)
        for number, step in enumerate(MIGRATIONS, start=1):
            if step.__name__ in done:
                continue
            step(db)
            db.execute(
                f"INSERT INTO {TABLE} (number, name, applied_at) VALUES (?, ?, ?)",
                (number, step.__name__, time.time()),
            )
            ran.append(step.__name__)
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('schema', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(latest()),),
        )
        # A store made before store ids gets its id now, once.
        for key, value in (("store_id", str(uuid.uuid4())), ("created_at", repr(time.time()))):
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (key, value),
            )
    return ran
