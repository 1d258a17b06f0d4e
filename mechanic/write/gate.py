"""The last word before a user's file is written, for the whole process.

Two things can forbid a write that a cycle already decided on:
- a stop: once mechanic is told to stop (SIGTERM), no write begins, and a
  write already under way finishes before the process ends;
- a veto registered by the daemon: a file protected by a config edit made
  while the model was answering is not written, whatever the cycle's own
  (older) config said.

Signals and the live config are process-wide, so this state is too. The
transaction enters `write_gate(path)` around every write; the daemon calls
`request_stop()` and `set_veto()`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

Veto = Callable[[Path], "str | None"]  # a reason not to write this file, or None

_stop = threading.Event()
_writing = threading.Lock()
_veto: Veto | None = None


def stop_requested() -> bool:
    """True once mechanic has been told to stop."""
    return _stop.is_set()


@contextlib.contextmanager
def write_gate(path: Path) -> Iterator[str | None]:
    """Yields None when `path` may be written now, else the reason it may not.
    A stop waits until the body is done."""
    with _writing:
        if _stop.is_set():
            yield "mechanic is stopping: nothing was written"
        else:
            yield _veto(path) if _veto is not None else None


def request_stop(*, timeout: float = 5.0) -> bool:
    """No write begins after this returns. Waits up to `timeout` for a write
    under way; True when none is left running."""
    _stop.set()
    if _writing.acquire(timeout=timeout):
        _writing.release()
        return True
    return False


def set_veto(veto: Veto | None) -> None:
    global _veto
    _veto = veto


def reset() -> None:
    """Forget a stop and the veto (a daemon starting, or a test)."""
    global _veto
    _stop.clear()
    _veto = None
