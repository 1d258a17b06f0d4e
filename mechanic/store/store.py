"""The Store: one connection to the state folder's SQLite file, and the table
groups that use it, each a typed part over that connection (attempts.py,
holds.py, review.py, tracking.py, memory.py, probes.py). Opening a store
migrates it (migrations.py); `mechanic store check` judges and rebuilds it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from mechanic.errors import StoreError, StoreUnusable
from mechanic.files import private
from mechanic.files.atomic import fsync_dir
from mechanic.store.attempts import Attempts
from mechanic.store.connection import (
    Connection,
    Identity,
    identify,
    refuse_unusable_file,
    translate,
)
from mechanic.store.file import STORE_NAME, create, id_floor
from mechanic.store.holds import Holds
from mechanic.store.memory import Memory
from mechanic.store.migrations import migrate
from mechanic.store.probes import Probes
from mechanic.store.review import Review
from mechanic.store.tracking import Tracking


class Store(Attempts, Holds, Review, Tracking, Memory, Probes):
    """Every table group's methods over one Connection. The parts share nothing
    but the connection and the ID floor (connection.Part), so each reads alone."""

    def __init__(self, connection: Connection) -> None:
        identity = Identity.read(connection)
        super().__init__(connection, identity.id_floor)
        self.path = connection.path
        self.store_id: str = identity.store_id
        self.created_at = identity.created_at

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
            create(path, id_floor(state_dir, replaced=False))
        refuse_unusable_file(path)
        # It holds whole files and diffs: 0600 (one an older mechanic left wider is
        # narrowed). SQLite gives its -wal and -shm files the database's mode.
        for own in ("", "-wal", "-shm"):
            private.narrow_existing(path.with_name(path.name + own))
        db: Connection | None = None
        try:
            db = Connection.connect(path, timeout=10)
            identify(db)
            db.execute("PRAGMA journal_mode=WAL")  # SQLite-ism: readers never wait
            db.execute("PRAGMA synchronous=NORMAL")
            migrate(db)
            return cls(db)
        except sqlite3.DatabaseError as exc:
            if db is not None:
                db.close()
            raise translate(exc, path, "use") from exc
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
            raise translate(exc, self.path, "read") from exc


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
    create(path, id_floor(state_dir, replaced=True))
    return kept, Store.open(state_dir)
