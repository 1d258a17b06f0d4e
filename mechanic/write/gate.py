"""The last word before a user's file is written.

Two things can forbid a write that a cycle already decided on:
- a stop: once mechanic is told to stop (SIGTERM), no write begins, and a
  write already under way finishes before the process ends;
- a veto: a file protected by a config edit made while the model was
  answering is not written, whatever the cycle's own (older) config said.

The daemon owns one gate (holding its stop event and its veto) and hands it to
every cycle it runs, through the cycle's Writer (mechanic/write/writer.py); a
one-shot command gets a gate of its own that nothing stops. The transaction
enters `gate.entered(path)` around every write; the daemon calls
`request_stop()`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

Veto = Callable[[Path], "str | None"]  # a reason not to write this file, or None


class WriteGate:
    """A stop event, a veto, and the lock a write holds while under way."""

    def __init__(self, stop: threading.Event | None = None, veto: Veto | None = None) -> None:
        self.stop = stop if stop is not None else threading.Event()
        self.veto = veto
        self._writing = threading.Lock()

    def stop_requested(self) -> bool:
        """True once mechanic has been told to stop."""
        return self.stop.is_set()

    @contextlib.contextmanager
    def entered(self, path: Path) -> Iterator[str | None]:
        """Yields None when `path` may be written now, else the reason it may
        not. A stop waits until the body is done."""
        with self._writing:
            if self.stop.is_set():
                yield "mechanic is stopping: nothing was written"
            else:
                yield self.veto(path) if self.veto is not None else None

    def request_stop(self, *, timeout: float = 5.0) -> bool:
        """No write begins after this returns. Waits up to `timeout` for a write
        under way; True when none is left running."""
        self.stop.set()
        if self._writing.acquire(timeout=timeout):
            self._writing.release()
            return True
        return False
