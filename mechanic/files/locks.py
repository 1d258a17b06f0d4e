"""One process at a time on a state folder: an flock on a file holding the pid.

The kernel drops an flock when its process dies, however it dies, so a lock
is never stale; the pid written into the file is only there so the one who is
refused can be told who holds it. Used for the cycle lock (cycle.py: two
cycles never write at once) and the daemon lock (daemon.py: one daemon per
state folder).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from mechanic.files import private


@contextlib.contextmanager
def pid_lock(
    path: Path,
    busy: Callable[[str], Exception],
    unusable: Callable[[OSError], Exception] | None = None,
) -> Iterator[None]:
    """Hold `path` exclusively while the block runs, with our pid in it.

    When another process holds it, raises busy(holder's pid, or "unknown") at
    once, without waiting. When the folder or file cannot be made or opened,
    raises unusable(the OSError), or the OSError itself.
    """
    try:
        private.make_folder(path.parent)  # the state folder: 0700 when mechanic creates it
        handle = open(path, "a+")  # noqa: SIM115 (closed below)
    except OSError as exc:
        if unusable is None:
            raise
        raise unusable(exc) from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise busy(handle.read().strip() or "unknown") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()


def is_held(path: Path) -> bool:
    """Whether some process holds the lock on `path` now."""
    try:
        handle = open(path)  # noqa: SIM115 (closed below)
    except OSError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False
