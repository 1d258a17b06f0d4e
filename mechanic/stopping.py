"""The process-wide stop: once mechanic is told to stop, no write to a user's
file begins, and a write already under way finishes before the process ends.

Signals are process-wide, so this state is too. The daemon calls `request()`
when SIGTERM or SIGINT arrives; every writer enters `write_gate()`, which says
whether it may still write and holds the stop back until it is done. A model
answer that arrives after the stop is dropped unread: the process exits
without ever reaching the transaction.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

_requested = threading.Event()
_writing = threading.Lock()


def requested() -> bool:
    """True once mechanic has been told to stop."""
    return _requested.is_set()


@contextlib.contextmanager
def write_gate() -> Iterator[bool]:
    """Yields True when a write may go ahead; the stop waits until it is done."""
    with _writing:
        yield not _requested.is_set()


def request(*, timeout: float = 5.0) -> bool:
    """Stop: no new write begins after this returns. Waits up to `timeout` for
    a write under way; True when none is left running."""
    _requested.set()
    if _writing.acquire(timeout=timeout):
        _writing.release()
        return True
    return False


def reset() -> None:
    """Forget a stop (for tests that run a daemon in-process)."""
    _requested.clear()
