"""File watching for the daemon: a change under a watch root marks that file
for a targeted check once it has been quiet for a while.

The OS's own notifications are used where they can be (inotify, FSEvents,
kqueue). When the OS refuses more watches (inotify's ENOSPC at
fs.inotify.max_user_watches, or EMFILE at max_user_instances) mechanic falls
back to polling, says so in the log, and records it for `mechanic doctor`.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import structlog
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from mechanic.config.settings import Config
from mechanic.detect.discovery import Finder

log = structlog.get_logger("mechanic.watcher")

POLL_SECONDS = 10.0  # how often the polling fallback looks at every file (10,000 files: ~1 % CPU)
INOTIFY_WATCHES = Path("/proc/sys/fs/inotify/max_user_watches")
INOTIFY_FIX = (
    "echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/90-mechanic.conf"
    " && sudo sysctl --system"
)
_CHANGES = ("created", "modified", "moved", "closed")
_NAMES = {
    "InotifyObserver": "inotify",
    "FSEventsObserver": "fsevents",
    "KqueueObserver": "kqueue",
    "WindowsApiObserver": "windows",
    "PollingObserver": "polling",
}


class Changes:
    """Files changed on disk and when each last changed (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[Path, float] = {}

    def touch(self, path: Path, when: float | None = None) -> None:
        with self._lock:
            self._last[path] = time.monotonic() if when is None else when

    def due(self, quiet_seconds: float, now: float | None = None) -> list[Path]:
        """Take the files untouched for `quiet_seconds`; the rest stay pending."""
        now = time.monotonic() if now is None else now
        with self._lock:
            ready = [p for p, t in self._last.items() if now - t >= quiet_seconds]
            for path in ready:
                del self._last[path]
        return sorted(ready)

    def __len__(self) -> int:
        with self._lock:
            return len(self._last)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in _CHANGES:
            return  # opening or reading a file (our own checks do) is no change
        raw = event.dest_path if event.event_type == "moved" else event.src_path
        path = Path(os.fsdecode(raw))
        finder = self.watcher.finder  # replaced whole when the config is reloaded
        found = finder.lookup(path)
        if found is None or finder.guard.is_protected(found.path):
            return
        self.watcher.changes.touch(found.path)


class Watcher:
    """Watches the config's roots; `kind` says how ("inotify", "polling"...)."""

    def __init__(
        self,
        config: Config,
        changes: Changes,
        *,
        native: Callable[[], BaseObserver] = Observer,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.config = config
        self.finder = Finder(config)
        self.changes = changes
        self._native = native
        self._poll_seconds = poll_seconds
        self._observer: BaseObserver | None = None
        self.kind = "off"
        self.fallback_reason: str | None = None

    def start(self) -> None:
        mode = self.config.mechanic.file_watcher
        roots = [Path(os.path.realpath(w.path)) for w in self.config.watches]
        if mode == "off" or not roots:
            log.info("watch.off", reason="file_watcher = 'off'" if roots else "no [[watch]] roots")
            return
        handler = _Handler(self)
        if mode == "auto":
            try:
                self._observer = self._started(self._native(), handler, roots)
            except OSError as exc:
                self.fallback_reason = _refusal(exc)
                log.warning(
                    "watch.polling",
                    reason=self.fallback_reason,
                    poll_seconds=self._poll_seconds,
                    fix=INOTIFY_FIX if exc.errno in (errno.ENOSPC, errno.EMFILE) else None,
                )
        if self._observer is None:
            polling = PollingObserver(timeout=self._poll_seconds)
            self._observer = self._started(polling, handler, roots)
        self.kind = _NAMES.get(type(self._observer).__name__, type(self._observer).__name__)
        log.info("watch.start", watcher=self.kind, roots=[str(r) for r in roots])

    @staticmethod
    def _started(observer: BaseObserver, handler: _Handler, roots: list[Path]) -> BaseObserver:
        observer.daemon = True
        for root in roots:
            observer.schedule(handler, str(root), recursive=True)
        try:
            observer.start()  # native emitters open their watches here and may raise
        except BaseException:
            observer.unschedule_all()
            raise
        return observer

    def update(self, config: Config) -> None:
        """New include/exclude/protected rules for the same roots."""
        self.config = config
        self.finder = Finder(config)

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)
            self._observer = None
        self.kind = "off"


def _refusal(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        limit = inotify_limit()
        where = f" (fs.inotify.max_user_watches = {limit})" if limit else ""
        return f"the OS refused more file watches{where}: polling every file instead"
    if exc.errno == errno.EMFILE:
        return "the OS refused another inotify instance (max_user_instances): polling instead"
    return f"native file watching failed ({exc}): polling instead"


def inotify_limit() -> int | None:
    """fs.inotify.max_user_watches, where there is such a thing."""
    try:
        return int(INOTIFY_WATCHES.read_text().strip())
    except (OSError, ValueError):
        return None


def count_folders(config: Config) -> tuple[int, int]:
    """(folders, files) under the watch roots: inotify needs one watch per folder,
    excluded folders included, since it watches each root recursively."""
    folders = files = 0
    for watch in config.watches:
        for _folder, _dirs, names in os.walk(os.path.realpath(watch.path), followlinks=False):
            folders += 1
            files += len(names)
    return folders, files
