"""The intent journal: what a write was about to do, recorded durably first.

Before the transaction puts a single byte in a watched folder it writes an
intent (the file, its backup, the expected old and new hashes, the names of the
temp files it may create) to `<backup_dir>/.intents/`, fsynced. The intent
lives next to the backup it names, so every caller of the transaction, whatever
rung produced the fix, is covered without passing anything new.

A live transaction holds an flock on its intent file; the kernel drops the lock
when the process dies, however it dies. Recovery therefore resolves exactly the
intents nobody holds, and never one a running mechanic is still working on.
This module only reads and writes intent records; putting a user's file back
is the transaction's job (`transaction.recover_interrupted`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mechanic.names import fit

INTENTS = ".intents"
TEMP_SUFFIX = ".mechanic-tmp"
# Phases: "apply": the new bytes passed validation in memory and are being
# written; "revert": the written file failed its check on disk, so the
# original must come back; "restore": a person asked for the backup back
# (either version on disk is one the person chose).
PHASES = ("apply", "revert", "restore")


def intents_dir(backup_dir: Path) -> Path:
    return backup_dir / INTENTS


def fsync_dir(folder: Path) -> None:
    # Makes a rename or a new name durable; some platforms cannot open folders.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
        for temp in self.intent.temps():
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        discard(self.folder, self.intent.id)
        os.close(self._fd)


def begin(folder: Path, intent_fields: dict) -> OpenIntent:
    """Record an intent durably and hold its lock; raises OSError when it
    cannot be recorded (then nothing may be written)."""
    folder.mkdir(parents=True, exist_ok=True)
    intent = Intent(id=f"{time.time_ns():x}-{secrets.token_hex(4)}", **intent_fields)
    part = folder / f".{intent.id}.part"
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = json.dumps(asdict(intent)).encode("utf-8")
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


def discard(folder: Path, intent_id: str) -> None:
    for phase in PHASES:
        with contextlib.suppress(FileNotFoundError):
            (folder / f"{intent_id}.{phase}").unlink()
    with contextlib.suppress(FileNotFoundError):
        (folder / f"{intent_id}.json").unlink()


@contextlib.contextmanager
def _claimed(path: Path) -> Iterator[bool]:
    """Hold `path`'s lock if nobody else does; yields whether it was claimed."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False  # a live transaction holds it
            return
        yield True
    finally:
        os.close(fd)


def interrupted(folder: Path) -> Iterator[Intent | Path]:
    """The intents no live process holds, each yielded while this process holds
    its lock; or the path of an intent that cannot be read."""
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if path.name.endswith(".part"):
            with _claimed(path) as ours:
                if ours:  # died before the intent was complete: nothing was written
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
            continue
        if path.suffix != ".json":
            continue
        with _claimed(path) as ours:
            if not ours:
                continue
            try:
                intent = Intent(**json.loads(path.read_bytes()))
            except (OSError, ValueError, TypeError):
                yield path
                continue
            for phase in PHASES:
                if (folder / f"{intent.id}.{phase}").exists():
                    intent.phase = phase
            yield intent
    for path in folder.iterdir():  # markers whose intent was already settled
        if path.suffix.lstrip(".") in PHASES and not path.with_suffix(".json").exists():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
