"""The intent journal: what a write was about to do, recorded durably first.

Before the transaction puts a single byte in a watched folder it writes an
intent (the file, its backup, the expected old and new hashes, the names of the
temp files it may create) to `<backup_dir>/.intents/`, fsynced. The intent
lives next to the backup it names, so every caller of the transaction, whatever
rung produced the fix, is covered without passing anything new.

A live transaction holds an flock on its intent file; the kernel drops the lock
when the process dies, however it dies. Recovery therefore resolves exactly the
intents nobody holds, and never one a running mechanic is still working on.

An applied fix is not settled when the rename is done: it is settled when its
attempt row is committed. So the transaction hands the intent over ("applied"
marker, lock released) and whoever records the attempt removes it afterwards
(`settle`). Every write that applies happens under the cycle lock, as does
recovery, so a handed-over intent is only ever recovered once its process is
gone or has failed to record it; and it carries what the attempt row needs
(`attempt`), so recovery can record the fix itself. An intent is never removed
before its write is on the record.

This module only reads and writes intent records; putting a user's file back
is the transaction's job (`recovery.recover_interrupted`, mechanic/write/recovery.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from mechanic.files import locks, private
from mechanic.files.atomic import fsync_dir
from mechanic.files.names import fit

INTENTS = ".intents"
TEMP_SUFFIX = ".mechanic-tmp"
# Phases: "apply": the new bytes passed validation in memory and are being
# written; "revert": the written file failed its check on disk, so the
# original must come back; "restore": a person asked for the backup back
# (either version on disk is one the person chose). A marker file named after
# a phase moves an intent to it; the "applied" marker says the write is done
# (and passed its check on disk) and waits for its record.
PHASES = ("apply", "revert", "restore", "applied")
# `<name>.<pid>.part`: a file being written under a private name by process pid.
_PART = re.compile(r"^\..+\.(\d+)\.part$", re.DOTALL)  # a name may hold a newline


def intents_dir(backup_dir: Path) -> Path:
    return backup_dir / INTENTS


@dataclass
class Intent:
    id: str
    target: str
    backup: str | None
    old_sha: str
    new_sha: str
    language: str | None
    phase: str
    pid: int = field(default_factory=os.getpid)
    started_at: float = field(default_factory=time.time)
    # What the attempt row says about this write (path, language, error, rung,
    # backend, model, tokens...): recovery records it from here if the process
    # died before it could.
    attempt: dict[str, Any] | None = None
    # A restore of attempt #undoes (`mechanic revert`): recovery marks it undone.
    undoes: int | None = None
    # Set on reading, never stored: the write was done and checked ("applied" marker).
    written: bool = field(default=False, compare=False)

    @classmethod
    def from_json(cls, data: bytes) -> Intent:
        """Raises ValueError or TypeError when `data` is not an intent. Keys this
        version does not know are ignored, so a newer mechanic's intent still loads."""
        values = json.loads(data)
        if not isinstance(values, dict):
            raise ValueError("not a JSON object")
        known = {f.name for f in fields(cls)} - {"written"}
        return cls(**{k: v for k, v in values.items() if k in known})

    def temp(self, step: int) -> Path:
        """The temp file name for write number `step`: known before it exists,
        so recovery can remove it even if the process died while writing it."""
        target = Path(self.target)
        return target.parent / f".{_short(target.name)}.{self.id}.{step}{TEMP_SUFFIX}"

    def temps(self) -> list[Path]:
        target = Path(self.target)
        return sorted(target.parent.glob(f".{_glob_escape(_short(target.name))}.{self.id}.*"))


def _short(name: str) -> str:
    # Within the 255 bytes a name may have, with room for the id and suffix.
    return fit(name[:80], 120)


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


class OpenIntent:
    """An intent this process is carrying out: locked, durable, removed on close."""

    def __init__(self, folder: Path, intent: Intent, fd: int) -> None:
        self.folder = folder
        self.intent = intent
        self._fd = fd

    @property
    def path(self) -> Path:
        return self.folder / f"{self.intent.id}.json"

    def mark(self, phase: str) -> None:
        """Move to `phase` durably (a marker file: the intent itself is never
        rewritten, so it is never half-written)."""
        marker = self.folder / f"{self.intent.id}.{phase}"
        with open(marker, "wb") as handle:
            os.fsync(handle.fileno())
        fsync_dir(self.folder)
        self.intent.phase = phase

    def close(self) -> None:
        """The write is settled: drop the temps, then the intent and its markers."""
        self._drop_temps()
        discard(self.folder, self.intent.id)
        os.close(self._fd)

    def hand_over(self) -> str:
        """The write is done and checked; it is settled once its attempt row is
        committed (`settle`). Until then the intent stays, marked "applied", so
        a process that dies before recording the fix leaves it to recovery.
        Returns the intent's id, which the attempt row keeps."""
        self._drop_temps()
        # Without the marker the intent is still durable: recovery checks the file again.
        with contextlib.suppress(OSError):
            self.mark("applied")
        os.close(self._fd)
        return self.intent.id

    def _drop_temps(self) -> None:
        for temp in self.intent.temps():
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def begin(folder: Path, intent_fields: dict) -> OpenIntent:
    """Record an intent durably and hold its lock; raises OSError when it
    cannot be recorded (then nothing may be written)."""
    private.make_folder(folder)
    intent = Intent(id=f"{time.time_ns():x}-{secrets.token_hex(4)}", **intent_fields)
    part = folder / f".{intent.id}.part"
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        locks.take(fd)
        values = asdict(intent)
        values.pop("written")
        data = json.dumps(values).encode("utf-8")
        while data:  # a short write (a disk filling up) must not pass for a whole one
            data = data[os.write(fd, data) :]
        os.fsync(fd)
        os.rename(part, folder / f"{intent.id}.json")  # the lock stays with the inode
        fsync_dir(folder)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise
    return OpenIntent(folder, intent, fd)


def settle(folder: Path, intent_id: str) -> None:
    """The attempt row of a handed-over intent is committed: the intent goes."""
    discard(folder, intent_id)


def discard(folder: Path, intent_id: str) -> None:
    for phase in PHASES:
        with contextlib.suppress(FileNotFoundError):
            (folder / f"{intent_id}.{phase}").unlink()
    with contextlib.suppress(FileNotFoundError):
        (folder / f"{intent_id}.json").unlink()


@contextlib.contextmanager
def _claimed(path: Path) -> Iterator[int | None]:
    """Hold `path`'s lock if nobody else does; yields its descriptor when
    claimed, None when not (held by a live process, gone, or not a regular file:
    opened without following links and without blocking, so a FIFO planted here
    cannot hang recovery)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        yield None
        return
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            yield None
            return
        if not locks.take(fd, wait=False):
            yield None  # a live transaction holds it
            return
        yield fd
    finally:
        os.close(fd)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def interrupted(folder: Path) -> Iterator[Intent | Path]:
    """The intents no live process holds, each yielded while this process holds
    its lock; or the path of an intent that cannot be read."""
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if path.name.endswith(".part"):
            with _claimed(path) as fd:
                if fd is not None:  # died before the intent was complete: nothing was written
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
            continue
        if path.suffix != ".json":
            continue
        with _claimed(path) as fd:
            if fd is None:
                continue
            try:
                intent = Intent.from_json(_read_all(fd))
            except (OSError, ValueError, TypeError):
                yield path
                continue
            if (folder / f"{intent.id}.revert").exists():
                intent.phase = "revert"
            intent.written = (folder / f"{intent.id}.applied").exists()
            yield intent
    for path in folder.iterdir():  # markers whose intent was already settled
        if path.suffix.lstrip(".") in PHASES and not path.with_suffix(".json").exists():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's, say)
        return False
    return False


def remove_stale_parts(folder: Path) -> list[Path]:
    """Remove the `.<name>.<pid>.part` files of writes whose process is gone (a
    backup or a kept fix killed half-written); returns them. A part is kept while
    its pid is running, or while anyone holds its lock (its writer may be in
    another pid namespace, where its pid means nothing here)."""
    removed: list[Path] = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return removed
    for name in names:
        found = _PART.match(name)
        if found is None or not _process_gone(int(found.group(1))):
            continue
        path = folder / name
        with _claimed(path) as ours:
            if ours:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
    return removed
