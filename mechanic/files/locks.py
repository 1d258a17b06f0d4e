"""Every lock mechanic takes: an flock, which the kernel drops when its process
dies, however it dies, so a lock is never stale.

- `pid_lock`: one process at a time on a state folder, refused at once, with
  the holder's pid written in the file so the one refused can be told who holds
  it. The cycle lock (`cycle_lock`: two cycles never write at once) and the
  daemon lock (daemon/main.py: one daemon per state folder).
- `waiting_lock`: one at a time, waiting for our turn (probes/health.py: a
  cycle and `mechanic probe --reset` never interleave).
- `take`: the primitive under both, on an open file; the journal and the
  backup writer hold it on a file while they write it, so that recovery tells
  a live writer's file from a dead one's (`take(..., wait=False)`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from mechanic.errors import CycleBusy
from mechanic.files import private


def take(file: int | IO[Any], *, shared: bool = False, wait: bool = True) -> bool:
    """Lock an open file (a descriptor or a file object): exclusive unless
    `shared`. Waits for it unless `wait` is False; then False means another
    process holds it, and nothing was taken."""
    flags = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB)
    try:
        fcntl.flock(file, flags)
    except BlockingIOError:
        return False
    return True


def release(file: int | IO[Any]) -> None:
    fcntl.flock(file, fcntl.LOCK_UN)


@contextlib.contextmanager
def waiting_lock(path: Path) -> Iterator[None]:
    """Hold `path` exclusively while the block runs, waiting for another
    holder to let go first. The folder is made private when created."""
    private.make_folder(path.parent)
    with open(path, "a") as handle:
        take(handle)
        try:
            yield
        finally:
            release(handle)


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
        if not take(handle, wait=False):
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
        return not take(handle, shared=True, wait=False)


@contextlib.contextmanager
def cycle_lock(state_dir: Path) -> Iterator[None]:
    """Exclusive hold on the state folder: two cycles never write at once (a
    cycle, and the commands that write by hand: accept, restore, store moves)."""

    def busy(holder: str) -> CycleBusy:
        return CycleBusy(f"another mechanic cycle is running (pid {holder}) on {state_dir}")

    with pid_lock(state_dir / "cycle.lock", busy):
        yield
