"""Mechanic's own folders and files are private to the user it runs as.

They hold copies of users' code: backups of files that may be 0600 and hold a
token, the store's good versions and diffs, the log's error messages. So the
state and backup folders are created 0700 and the store and the log 0600,
whatever the umask. An existing folder is left as it is (it may be one the user
chose and shares): `mechanic doctor` warns about one that others can read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def make_folder(path: Path) -> None:
    """Create `path` and any missing parents 0700 (an existing one is kept as
    it is). Raises OSError like Path.mkdir."""
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
    if not path.is_dir():
        raise NotADirectoryError(f"{path} is not a folder")


def own_file(path: Path) -> None:
    """Make `path` a file only its owner can read: created 0600 if missing, and
    narrowed to 0600 if it grants anything to others (it is mechanic's own file:
    the store, its -wal/-shm, the log). Never follows a link. Raises OSError."""
    flags = os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    fd = os.open(path, flags, FILE_MODE)
    try:
        tighten(fd)
    finally:
        os.close(fd)


def tighten(fd: int) -> None:
    """Drop the group and other bits of the open file `fd`."""
    mode = stat.S_IMODE(os.fstat(fd).st_mode)
    if mode & 0o077:
        os.fchmod(fd, mode & FILE_MODE)


def narrow_existing(path: Path) -> None:
    """Like own_file, for a file that may not exist (then nothing is created)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            tighten(fd)
    finally:
        os.close(fd)


def open_to_others(path: Path) -> int | None:
    """The permission bits of `path` when group or others have any; None when
    private or absent."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None
