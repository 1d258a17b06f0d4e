"""The one way mechanic opens a user's file to read it: never blocking on it.

A path that was a regular file when the tree was walked may be something else by
the time it is read: `rm app.py; mkfifo app.py` during a model call, a link to
/dev/zero, a socket, a folder. A plain `open()` of a FIFO waits for a writer for
ever (holding the cycle lock), and reading a device never ends. So every read of
a user's file (scan, checkers, repair, the transaction's re-reads and backups,
recovery, revert/restore/accept, error logs, the test copy, git) goes through
here:

- the path is stat'ed first, so a device or socket is never even opened;
- it is opened with O_NONBLOCK (a FIFO opens at once instead of waiting for a
  writer) and O_NOCTTY, and `fstat` on the open descriptor decides: the object
  read is the one checked, whatever was swapped in between;
- anything but a regular file raises NotRegularFile, an OSError whose
  `strerror` names what the path is, so callers that already handle unreadable
  files report it as such, with a reason a person can act on.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

_KINDS = (
    (stat.S_ISREG, "a regular file"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)

_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)


class NotRegularFile(OSError):
    """The path is not a regular file; it was not read (and is left alone)."""

    def __init__(self, path: str | os.PathLike[str], mode: int) -> None:
        super().__init__(errno.EINVAL, f"not a regular file ({kind(mode)})", os.fspath(path))


def kind(mode: int) -> str:
    """What a st_mode is, in words: "a FIFO", "a folder", ..."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """`path` opened for binary reading, if and only if it is a regular file
    (symlinks followed). Raises NotRegularFile, or the OSError of the open."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotRegularFile(path, info.st_mode)
    try:
        fd = os.open(path, _FLAGS)
    except OSError:
        # Swapped between the stat and the open (a socket gives ENXIO): say what it is.
        now = os.stat(path).st_mode
        if not stat.S_ISREG(now):
            raise NotRegularFile(path, now) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(path, info.st_mode)
        # O_NONBLOCK means nothing to a regular file; cleared so nothing downstream
        # ever sees EAGAIN.
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the regular file at `path`; see open_regular."""
    with open_regular(path) as handle:
        return handle.read()


def copy_regular(source: str | os.PathLike[str], destination: Path) -> int:
    """Copy a regular file's bytes, permissions and times to a new `destination`
    (what shutil.copy2 does, without opening a FIFO or device); the bytes copied."""
    with open_regular(source) as handle:
        info = os.fstat(handle.fileno())
        with open(destination, "xb") as out:
            size = 0
            while chunk := handle.read(1 << 20):
                out.write(chunk)
                size += len(chunk)
    os.chmod(destination, stat.S_IMODE(info.st_mode))
    os.utime(destination, ns=(info.st_atime_ns, info.st_mtime_ns))
    return size
