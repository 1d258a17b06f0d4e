"""The store's one connection: any str stored exactly, SQLite errors said as
StoreError, transactions, and the checks that refuse a file that is not a
usable mechanic store.

SQLite-isms live here and are named where they are used: PRAGMAs, `BEGIN
IMMEDIATE`, `?` parameters, and the BLOB fallback for names that are not UTF-8.
A new row's ID comes from `Connection.insert` (DB-API lastrowid; PostgreSQL:
RETURNING id).
A PostgreSQL connection (the fleet) would keep this module's interface.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mechanic.errors import StoreError, StoreUnusable

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")  # from_row builds dataclasses only
SQLITE_HEADER = b"SQLite format 3\x00"
_BINARY_COLUMNS = frozenset({"content"})  # columns whose BLOBs are data, not names


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


def translate(exc: sqlite3.DatabaseError, path: Path, doing: str) -> StoreError:
    """A corrupt file stops everything until repaired (StoreUnusable, exit 2); a
    busy or unwritable one is a StoreError for this run only."""
    name = getattr(exc, "sqlite_errorname", "")
    if name in ("SQLITE_CORRUPT", "SQLITE_NOTADB") or "malformed" in str(exc):
        return StoreUnusable(f"the state store {path} is corrupt ({exc})")
    return StoreError(f"cannot {doing} the state store {path}: {exc}")


class Connection:
    """A sqlite3 connection (autocommit; transactions are explicit, see tx) that
    stores any str exactly (see _bind and _row)."""

    def __init__(self, raw: sqlite3.Connection, path: Path) -> None:
        self.raw = raw
        self.path = path
        raw.row_factory = _row

    @classmethod
    def connect(cls, path: Path, *, timeout: float = 5.0) -> Connection:
        return cls(sqlite3.connect(path, timeout=timeout, isolation_level=None), path)

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.raw.execute(sql, _params(params))

    def insert(self, sql: str, params: Any = ()) -> int:
        """Run an INSERT of one row and return the ID of the row it added."""
        cursor = self.execute(sql, params)
        # No row added: lastrowid is None or stale (sqlite3 leaves it 0), never this row's.
        if cursor.rowcount != 1 or cursor.lastrowid is None:
            what = sql.split("(")[0].strip()
            raise StoreError(f"the state store {self.path} added no row ({what})")
        return cursor.lastrowid

    def executemany(self, sql: str, rows: Iterable[Any]) -> sqlite3.Cursor:
        return self.raw.executemany(sql, (_params(row) for row in rows))

    def columns(self, table: str) -> set[str]:
        """The columns `table` has now (portable: no PRAGMA table_info)."""
        return {
            column[0] for column in self.execute(f"SELECT * FROM {table} WHERE 1 = 0").description
        }

    def tables(self) -> set[str]:
        # SQLite-ism: sqlite_master (PostgreSQL: information_schema.tables).
        return {
            row[0] for row in self.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """One transaction, all or nothing; a database error becomes a StoreError
        naming the store file."""
        try:
            # SQLite-ism: IMMEDIATE takes the write lock now, so two writers wait
            # (busy timeout) instead of failing at COMMIT.
            self.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self.execute("ROLLBACK")
                raise
            self.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise translate(exc, self.path, "write") from exc

    def next_id(self, table: str, floor: int) -> int:
        """The ID the next row of `table` gets: never one below `floor` (IDs a
        replaced store handed out; see mechanic/store/file.py)."""
        row = self.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()
        return max(int(row[0]), floor) + 1

    def close(self) -> None:
        self.raw.close()


def from_row(cls: type[T], row: Any, **overrides: Any) -> T:
    """A record of type `cls` (a dataclass) from a row, taking the columns it has
    fields for: a column a later migration adds never breaks an older record."""
    names = {field.name for field in fields(cls)}
    values = {key: row[key] for key in row.keys() if key in names}  # noqa: SIM118
    return cls(**{**values, **overrides})


class Part:
    """One table group's methods. Every part of a Store shares its one
    Connection (`_db`) and the ID floor of its file."""

    def __init__(self, db: Connection, id_floor: int = 0) -> None:
        self._db = db
        # IDs below this were handed out by a store this one replaced.
        self.id_floor = id_floor


def refuse_unusable_file(path: Path) -> None:
    """An empty or non-SQLite file, judged before SQLite would quietly take an
    empty file for a new database."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except IsADirectoryError:
        raise StoreUnusable(f"the state store {path} is a folder, not a file") from None
    except OSError as exc:
        raise StoreError(f"cannot read the state store {path}: {exc.strerror or exc}") from exc
    if not head:
        raise StoreUnusable(
            f"the state store {path} is empty (0 bytes): its history, and the attempt IDs"
            " it handed out, are gone"
        )
    if head != SQLITE_HEADER:
        raise StoreUnusable(f"the state store {path} is not a SQLite database (corrupt)")


def identify(db: Connection) -> None:
    """Refuse a database that holds nothing, or that is another program's."""
    tables = db.tables()
    if not tables:
        raise StoreUnusable(f"the state store {db.path} is an empty database: its history is gone")
    if "meta" not in tables and "attempts" not in tables:  # stores before meta had attempts
        listed = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreUnusable(
            f"{db.path} is another program's SQLite database (tables: {listed}), not a"
            " mechanic store",
            repair="point mechanic.state_dir at another folder, or keep this file aside and"
            f" start a new store: {StoreUnusable.REBUILD}",
        )


@dataclass(frozen=True)
class Identity:
    """Which store this is: its id (a UUID made when it was created), when, and
    its ID floor (a store that replaces another hands out IDs above it)."""

    store_id: str
    created_at: float
    id_floor: int

    @classmethod
    def read(cls, db: Connection) -> Identity:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        return cls(
            store_id=meta.get("store_id", ""),
            created_at=float(meta.get("created_at") or 0),
            id_floor=int(meta.get("id_floor") or 0),
        )
