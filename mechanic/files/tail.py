"""Reading what a log gained since the last look, across rotation and truncation.

A log read so far is remembered as a Position: the device and inode of the file,
the offset reached, and a hash of the file's first bytes (up to HEAD_BYTES).
Reading goes on from the offset only when the file at hand is that same file,
at least that long and starting with the same bytes. A log truncated, rewritten
in place (copytruncate, then a busy app: same inode, bigger than before) or
replaced by another file at its path is read again from its start, so no line
is skipped and none is read from the middle.

`Tail` follows one path (the logerrors probe, `mechanic log -f`); `OpenLog` is
the same judgement on one open file, for readers of many logs at once
(mechanic/detect/errorlog.py, which also follows a log renamed away).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mechanic.files.hashing import sha256
from mechanic.files.userfile import open_regular

HEAD_BYTES = 4096  # how much of a log's start identifies it across rotations


@dataclass(frozen=True)
class Position:
    """Where reading one log file stopped, and what tells that file again."""

    device: int
    inode: int
    offset: int
    head: str  # sha256 of the file's first min(offset, HEAD_BYTES) bytes

    @property
    def key(self) -> tuple[int, int]:
        return (self.device, self.inode)


class OpenLog:
    """A log file opened for reading, with its identity and size as of opening
    (what is appended later waits for the next look)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        info = os.fstat(handle.fileno())
        self.key = (info.st_dev, info.st_ino)
        self.size = info.st_size
        self.mtime = info.st_mtime

    def head(self, length: int) -> str:
        self.handle.seek(0)
        return sha256(self.handle.read(min(length, HEAD_BYTES)))

    def holds(self, known: Position) -> bool:
        """Whether this file is at least as long as `known` and starts with the same
        bytes: what was read of that log is still here (a copy of it too)."""
        return known.offset <= self.size and self.head(known.offset) == known.head

    def resume(self, known: Position) -> int:
        """Where reading goes on after `known`: its offset when this is the same
        file, grown or not; 0 when the log was truncated, rewritten or replaced."""
        return known.offset if known.key == self.key and self.holds(known) else 0

    def line_start(self, offset: int) -> int:
        """The start of the first line at or after `offset`."""
        if offset <= 0:
            return 0
        self.handle.seek(offset - 1)
        rest = self.handle.read(1 << 16)
        newline = rest.find(b"\n")
        return offset + newline if newline >= 0 else offset

    def read(self, start: int, end: int | None = None) -> bytes:
        end = self.size if end is None else end
        self.handle.seek(start)
        return self.handle.read(max(0, end - start))

    def position(self, offset: int) -> Position:
        return Position(self.key[0], self.key[1], offset, self.head(offset))


class Tail:
    """One log followed by its path: each read() returns what it gained since the
    last, and `position` says where that left off (None: read it from its start)."""

    def __init__(self, path: str | os.PathLike[str], position: Position | None = None) -> None:
        self.path = Path(path)
        self.position = position

    @classmethod
    def at(cls, path: str | os.PathLike[str], offset: int | None = None) -> Tail:
        """A Tail of `path` as it is now, having read `offset` bytes (None: all of
        it). A log that does not exist yet will be read from its start."""
        try:
            with open_regular(path) as handle:
                log = OpenLog(handle)
                return cls(path, log.position(log.size if offset is None else offset))
        except FileNotFoundError:
            return cls(path, None)

    def read(self, *, max_bytes: int | None = None, whole_lines: bool = True) -> bytes:
        """The bytes appended since the last read; all of the log when it was
        truncated or replaced. `max_bytes` keeps only the last ones (from a line
        start); with `whole_lines` a line still being written waits for next time.
        Raises the OSError of the open (FileNotFoundError while the log is gone)."""
        with open_regular(self.path) as handle:
            log = OpenLog(handle)
            start = 0 if self.position is None else log.resume(self.position)
            if max_bytes is not None and log.size - start > max_bytes:
                start = log.line_start(log.size - max_bytes)
            data = log.read(start)
            if whole_lines:
                data = data[: data.rfind(b"\n") + 1]
            self.position = log.position(start + len(data))
        return data
