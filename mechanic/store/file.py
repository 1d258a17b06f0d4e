"""The store file itself: made whole, and the ID floor of a store that
replaces another.

Each store has an id (a UUID in meta, made when the store is created) and an
ID floor: a store that replaces another (rebuilt by `mechanic store check
--rebuild`, or re-created after its file was deleted) hands out attempt and
patch IDs above every ID the old one is known to have used, so an ID a person
read in an old message never names a different attempt.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import uuid
from pathlib import Path

from mechanic.errors import StoreError
from mechanic.files import private
from mechanic.files.atomic import fsync_dir
from mechanic.store.connection import Connection
from mechanic.store.migrations import migrate

STORE_NAME = "mechanic.sqlite3"
ID_BLOCK = 1000  # a replacing store's IDs start at the next multiple of this
_TRACE_ID = re.compile(rb'"(?:attempt|patch|attempt_id)": ?(\d{1,12})\b')


def create(path: Path, id_floor: int) -> None:
    """Make a new store at `path`, whole: it is built under a private name and
    linked into place, so no process ever opens a half-made (or 0-byte) store,
    and two processes creating one at once end up sharing the first."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.new")
    try:
        private.own_file(temp)  # 0600 from the start, whatever the umask
        db = Connection.connect(temp)
        try:
            migrate(db)  # rollback journal: the file is complete at each commit
            db.execute("INSERT INTO meta (key, value) VALUES ('id_floor', ?)", (str(id_floor),))
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


def id_floor(state_dir: Path, *, replaced: bool) -> int:
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
