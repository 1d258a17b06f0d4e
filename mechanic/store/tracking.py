"""What mechanic keeps of the user's files and logs between cycles: the last
verdict on each file's content (a warm cycle skips unchanged files), how far
each log has been read, the runtime errors found in them, and each file's last
version that passed its check."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from mechanic.redact import scrub
from mechanic.store.connection import Part


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


class Tracking(Part):
    """The file_state, log_offsets, runtime_errors and good_versions tables."""

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
        with self._db.tx() as db:
            db.executemany(
                "INSERT INTO file_state"
                " (path, size, mtime_ns, sha256, signature, clean, checked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE"
                " SET size = excluded.size, mtime_ns = excluded.mtime_ns,"
                " sha256 = excluded.sha256, signature = excluded.signature,"
                " clean = excluded.clean, checked_at = excluded.checked_at",
                rows,
            )

    def log_offsets(self) -> dict[tuple[int, int], LogOffset]:
        rows = self._db.execute("SELECT * FROM log_offsets")
        return {(row["dev"], row["ino"]): LogOffset(**dict(row)) for row in rows}

    def save_log_offsets(self, offsets: Iterable[LogOffset]) -> None:
        rows = [(o.dev, o.ino, o.path, o.offset, o.head, o.seen_at) for o in offsets]
        if not rows:
            return
        with self._db.tx() as db:
            db.executemany(
                "INSERT INTO log_offsets (dev, ino, path, offset, head, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(dev, ino)"
                " DO UPDATE SET path = excluded.path, offset = excluded.offset,"
                " head = excluded.head, seen_at = excluded.seen_at",
                rows,
            )

    def drop_log_offsets(self, keys: Iterable[tuple[int, int]]) -> None:
        with self._db.tx() as db:
            db.executemany("DELETE FROM log_offsets WHERE dev = ? AND ino = ?", list(keys))

    def note_runtime_error(self, error: RuntimeErrorRecord) -> RuntimeErrorRecord:
        """Count one more sighting of an error. A sighting that is still active
        (addressed_at None) makes the error active again with the new location;
        a stale one (older than the file's last change) only adds to the count."""
        values = asdict(error)
        values["message"] = scrub(values["message"])
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._db.tx() as db:
            db.execute(
                f"INSERT INTO runtime_errors ({names}) VALUES ({marks})"
                " ON CONFLICT(signature) DO UPDATE SET"
                " count = count + excluded.count,"
                " last_seen = CASE WHEN excluded.last_seen > last_seen"
                " THEN excluded.last_seen ELSE last_seen END,"
                " first_seen = CASE WHEN excluded.first_seen < first_seen"
                " THEN excluded.first_seen ELSE first_seen END,"
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
        with self._db.tx() as db:
            db.executemany(
                "UPDATE runtime_errors SET addressed_at = ? WHERE signature = ?",
                [(when, signature) for signature in signatures],
            )

    def save_good_versions(self, versions: Iterable[tuple[str, str, bytes]]) -> None:
        """Remember (path, sha256, bytes) as each file's last version that passed its
        check; compressed, since every watched file has one."""
        rows = [(p, sha, zlib.compress(data, 1), time.time()) for p, sha, data in versions]
        if not rows:
            return
        with self._db.tx() as db:
            db.executemany(
                "INSERT INTO good_versions (path, sha256, content, saved_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(path) DO UPDATE"
                " SET sha256 = excluded.sha256, content = excluded.content,"
                " saved_at = excluded.saved_at WHERE good_versions.sha256 <> excluded.sha256",
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
