"""Replacing a file so that a reader sees the old bytes or the new, never a mix,
and a crash leaves one or the other: a temp file in the same folder (a rename
is atomic only within one filesystem), fsynced, renamed over the name, and the
folder fsynced so the rename itself survives a power cut.

Every writer of a whole file uses this: the transaction (through `write_temp`
and `fsync_dir`, with its own checks between the two), pending patches, the
config editor, the daemon's state file and the service unit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new name in `folder` durable; some platforms cannot
    open folders, and there the rename is as durable as they make it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_temp(temp: Path, data: bytes, mode: int | None = None) -> None:
    """Create `temp` (never an existing file: O_EXCL) holding `data`, on disk.
    With `mode` it gets exactly those permissions (it is created no wider than
    0600 until then); without, the usual ones the umask leaves."""
    fd = os.open(
        temp,
        os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
        0o600 if mode is not None else 0o666,
    )
    with os.fdopen(fd, "wb") as handle:
        if mode is not None:
            os.fchmod(fd, mode)
        handle.write(data)
        handle.flush()
        os.fsync(fd)


def write_atomic(
    path: Path, data: bytes, *, mode: int | None = None, temp: Path | None = None
) -> None:
    """Replace `path` with `data` atomically and durably (see the module
    docstring). `temp` names the temp file (default: a hidden name beside
    `path`, random so that no leftover is in the way); it is gone afterwards,
    whatever happens. Raises OSError."""
    if temp is None:
        temp = path.with_name(f".{path.name[:200]}.{secrets.token_hex(6)}.tmp")
    try:
        write_temp(temp, data, mode)
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    fsync_dir(path.parent)
