"""`mechanic run`: the long-running daemon, in the foreground (services manage it).

Three sources of work, one worker: APScheduler runs a full cycle at start and
every `interval_minutes`; the file watcher marks changed files, and once one
has been quiet for `quiet_seconds` a targeted check of it is queued. Every
cycle runs on the scheduler's single worker thread (and under cycle_lock), so
two never overlap. The main thread only watches: signals, config edits, the
quiet clock and systemd's watchdog.

After sleep, a missed interval runs once (coalesce) and is never dropped (no
misfire grace limit: APScheduler's default of 1 s would drop it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import structlog
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from mechanic.config.folders import check_folders
from mechanic.config.load import load_config
from mechanic.config.settings import Config
from mechanic.daemon.sd_notify import Notifier
from mechanic.daemon.watcher import Changes, Watcher
from mechanic.detect.discovery import Finder, Guard
from mechanic.errors import ConfigError, CycleBusy, DaemonRunning, MechanicError
from mechanic.files.atomic import write_atomic
from mechanic.files.locks import is_held, pid_lock
from mechanic.write.gate import WriteGate

log = structlog.get_logger("mechanic.daemon")

TICK_SECONDS = 0.5  # how often the main thread looks at signals, config and the quiet clock
STOP_WAIT_SECONDS = 3.0  # how long a stop waits for a cycle to finish before abandoning it
WRITE_WAIT_SECONDS = 5.0  # how long a stop waits for a file write under way (ms, usually)
LOCK_NAME = "daemon.lock"
STATE_NAME = "daemon.json"
FULL_JOB = "full-cycle"


@contextlib.contextmanager
def daemon_lock(state_dir: Path) -> Iterator[None]:
    """One daemon per state folder, held for the daemon's whole life."""

    def busy(holder: str) -> DaemonRunning:
        return DaemonRunning(
            f"another mechanic daemon is already running on {state_dir} (pid {holder});"
            f" stop it first (systemctl --user stop mechanic, or kill {holder})"
        )

    def unusable(exc: OSError) -> MechanicError:
        return MechanicError(
            f"cannot use the state folder {state_dir} (mechanic.state_dir): {exc.strerror or exc}"
        )

    with pid_lock(state_dir / LOCK_NAME, busy, unusable):
        yield


def running_daemon(state_dir: Path) -> dict[str, Any] | None:
    """What the daemon on `state_dir` reported about itself, if one is running."""
    lock = state_dir / LOCK_NAME
    if not is_held(lock):
        return None
    try:
        return json.loads((state_dir / STATE_NAME).read_text())
    except (OSError, ValueError):
        return {"pid": lock.read_text().strip() or None}


def build_scheduler(interval_seconds: float, full_cycle: Callable[[], None]) -> BackgroundScheduler:
    """The scheduler: one worker thread, a full cycle now and every interval.

    coalesce: runs missed while the machine slept collapse into one.
    misfire_grace_time None: however late, a missed run still runs.
    max_instances 1: a full cycle never starts while the last is still going.
    """
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
        daemon=True,
    )
    scheduler.add_job(
        full_cycle,
        IntervalTrigger(seconds=interval_seconds, timezone=UTC),
        id=FULL_JOB,
        name="full cycle",
        next_run_time=datetime.now(UTC),
    )
    return scheduler


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        notifier: Notifier | None = None,
        watcher_factory: Callable[[Config, Changes], Watcher] = Watcher,
    ) -> None:
        self.config = config
        self.notifier = notifier or Notifier()
        self._watcher_factory = watcher_factory
        self._guard = Guard.from_config(config)
        self.changes = Changes()
        self.watcher: Watcher | None = None
        self.scheduler: BackgroundScheduler | None = None
        self._stop = threading.Event()
        # The one stop event: set by SIGTERM, it reaches every write of every cycle.
        self.gate = WriteGate(self._stop, self._veto)
        self._reload = threading.Event()
        self._busy = threading.Event()
        self._cycle_began: float | None = None  # monotonic start of the cycle under way
        self._stuck_told = False
        self._config_seen = _signature(config.source)
        self._last_ping = 0.0
        self.started_at = time.time()

    # --- life ---------------------------------------------------------------

    def run(self) -> int:
        state_dir = self.config.mechanic.state_dir
        with daemon_lock(state_dir):
            self._install_signals()
            log.info(
                "daemon.start",
                pid=os.getpid(),
                config=str(self.config.source),
                interval_minutes=self.config.mechanic.interval_minutes,
                quiet_seconds=self.config.mechanic.quiet_seconds,
            )
            self.start_watching()
            self.scheduler = build_scheduler(
                self.config.mechanic.interval_minutes * 60, self._full_cycle
            )
            self.scheduler.start()
            self.notifier.ready(status=self._status_line())
            self._ping(force=True)
            while not self._stop.is_set():
                self._stop.wait(TICK_SECONDS)
                if self._stop.is_set():
                    break
                self._check_config()
                self._queue_quiet_files()
                self._ping()
            return self._shutdown()

    def _install_signals(self) -> None:
        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("daemon.signal", signal=signal.Signals(signum).name)
            self._stop.set()

        def reload(_signum: int, _frame: FrameType | None) -> None:
            self._reload.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    def _shutdown(self) -> int:
        """Stop within seconds. A cycle still asking a model is abandoned: the
        stop gate lets no write begin after this point, so nothing is written."""
        self.notifier.stopping()
        log.info("daemon.stopping")
        if self.watcher is not None:
            self.watcher.stop()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        finished = self.gate.request_stop(timeout=WRITE_WAIT_SECONDS)
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while self._busy.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
        abandoned = self._busy.is_set()
        with contextlib.suppress(OSError):
            (self.config.mechanic.state_dir / STATE_NAME).unlink()
        if abandoned:
            log.info("daemon.stopped", abandoned="a cycle waiting on the model; nothing written")
        else:
            log.info("daemon.stopped")
        if not finished:
            log.warning("daemon.write_unfinished", reason="a file write outlasted the stop wait")
        if abandoned and finished:
            # The worker is blocked in a model call that cannot be interrupted.
            # Interpreter shutdown would wait for it, so leave now: the store is
            # SQLite in WAL mode, and after request_stop() no file write can begin.
            logging.shutdown()
            os._exit(0)
        return 0

    # --- cycles (on the scheduler's one worker thread) ------------------------

    def _full_cycle(self) -> None:
        self._cycle(None)

    def _targeted(self, paths: list[Path]) -> None:
        self._cycle(paths)

    def _cycle(self, only: Iterable[Path] | None) -> None:
        from mechanic.cycle import run_cycle
        from mechanic.store import Store

        if self.gate.stop_requested():
            return
        config = self.config  # the config as it is now; a reload applies to the next cycle
        only = None if only is None else list(only)
        self._busy.set()
        self._cycle_began = time.monotonic()
        report = None
        try:
            with Store.open(config.mechanic.state_dir) as store:
                report = run_cycle(
                    config,
                    store,
                    only=only,
                    quiet_seconds=config.mechanic.quiet_seconds,
                    gate=self.gate,
                )
        except CycleBusy as exc:
            log.warning("cycle.busy", error=str(exc))
            for path in only or ():
                self.changes.touch(Path(path))  # try these again after another quiet period
        except MechanicError as exc:
            log.error("cycle.failed", error=str(exc))
        except Exception:  # the daemon outlives any one cycle's bug
            log.exception("cycle.crashed")
        finally:
            self._cycle_began = None
            self._busy.clear()
        if report is not None:
            self._requeue_recent(report.held, config.mechanic.quiet_seconds)
            self.notifier.status(self._status_line(report))

    def _requeue_recent(self, held: Iterable[Path], quiet_seconds: float) -> None:
        """Files held because they changed too recently wait for their quiet
        period again here, so their repair does not wait for the next interval."""
        for path in held:
            try:
                age = time.time() - os.stat(path).st_mtime
            except OSError:
                continue
            if age < quiet_seconds:
                self.changes.touch(Path(path), when=time.monotonic() - max(age, 0))

    def _veto(self, path: Path) -> str | None:
        """Asked by the transaction just before a write: the protected list as the
        config says now, even if it changed while the model was answering."""
        if self._guard.is_protected(path):
            return "protected by config.toml as it is now: not written"
        return None

    # --- main-thread chores -------------------------------------------------

    def _queue_quiet_files(self) -> None:
        due = self.changes.due(self.config.mechanic.quiet_seconds)
        if due and self.scheduler is not None and not self._stop.is_set():
            log.info("watch.queued", files=[str(p) for p in due])
            self.scheduler.add_job(self._targeted, args=[due], name="targeted check")

    def _ping(self, *, force: bool = False) -> None:
        stuck = self._stuck_for()
        seconds = self.notifier.watchdog_seconds
        if seconds is None:
            return
        now = time.monotonic()
        if not force and now - self._last_ping < seconds / 2:
            return
        # Only a live scheduler with no stuck cycle earns the ping: otherwise the
        # pings stop and systemd (WatchdogSec) restarts us.
        if stuck is None and self.scheduler is not None and self.scheduler.running:
            self.notifier.watchdog()
            self._last_ping = now

    def _stuck_for(self) -> float | None:
        """Seconds the cycle under way has run, once past max_cycle_minutes; logged once."""
        began = self._cycle_began
        if began is None:
            self._stuck_told = False
            return None
        running = time.monotonic() - began
        bound = self.config.mechanic.max_cycle_minutes * 60
        if running <= bound:
            self._stuck_told = False
            return None
        if not self._stuck_told:
            self._stuck_told = True
            watchdog = self.notifier.watchdog_seconds
            log.error(
                "daemon.cycle_stuck",
                running_seconds=round(running, 1),
                max_cycle_minutes=self.config.mechanic.max_cycle_minutes,
                action=(
                    "watchdog pings stopped: systemd restarts mechanic"
                    if watchdog is not None
                    else "no service watchdog here: restart mechanic to end it"
                ),
            )
            self.notifier.status(
                f"stuck: a cycle has run {running / 60:.1f} min"
                f" (max_cycle_minutes = {self.config.mechanic.max_cycle_minutes:g})"
            )
        return running

    def _check_config(self) -> None:
        seen = _signature(self.config.source)
        forced = self._reload.is_set()
        self._reload.clear()
        if seen == self._config_seen and not forced:
            return
        self._config_seen = seen
        try:
            new = load_config(self.config.source)
            if new.watches != self.config.watches:
                Finder(new).check_sizes()  # a root past the file limit is a bad config too
        except ConfigError as exc:
            log.error(
                "config.invalid",
                key=exc.key,
                file=str(exc.file) if exc.file else None,
                line=exc.line,
                error=exc.detail,
                kept="the last good config stays in use",
            )
            return
        self._apply(new, forced)

    def _apply(self, new: Config, forced: bool) -> None:
        old = self.config
        changed = _changed_keys(old, new)
        if "mechanic.state_dir" in changed:
            log.warning(
                "config.restart_needed",
                key="mechanic.state_dir",
                reason="the daemon keeps its state folder (and its lock) until it restarts",
            )
            kept = dataclasses.replace(new.mechanic, state_dir=old.mechanic.state_dir)
            new = dataclasses.replace(new, mechanic=kept)
        self.config = new
        self._guard = Guard.from_config(new)
        log.info("config.reloaded", changed=changed, by="SIGHUP" if forced else "edit")
        if "mechanic.interval_minutes" in changed and self.scheduler is not None:
            self.scheduler.reschedule_job(
                FULL_JOB,
                trigger=IntervalTrigger(seconds=new.mechanic.interval_minutes * 60, timezone=UTC),
            )
        roots = [w.path for w in old.watches] != [w.path for w in new.watches]
        if roots or "mechanic.file_watcher" in changed:
            self.start_watching()
        elif self.watcher is not None:
            self.watcher.update(new)  # include, exclude and protected apply at once

    def start_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.watcher = self._watcher_factory(self.config, self.changes)
        self.watcher.start()
        self._write_state()

    def _write_state(self) -> None:
        """What `mechanic doctor` and `mechanic service status` read about us."""
        watcher = self.watcher
        state = {
            "pid": os.getpid(),
            "started_at": self.started_at,
            "config": str(self.config.source),
            "watcher": watcher.kind if watcher else "off",
            "watcher_fallback": watcher.fallback_reason if watcher else None,
        }
        path = self.config.mechanic.state_dir / STATE_NAME
        try:
            write_atomic(path, json.dumps(state).encode("utf-8"))
        except OSError as exc:
            log.warning("daemon.state_unwritable", file=str(path), error=str(exc))

    def _status_line(self, report: Any = None) -> str:
        kind = self.watcher.kind if self.watcher else "off"
        line = (
            f"watching ({kind}), a full cycle every {self.config.mechanic.interval_minutes:g} min"
        )
        if report is not None:
            fixed = sum(a.outcome == "applied" for a in report.attempts)
            line += (
                f"; last cycle #{report.cycle_id}: {len(report.scan.findings)} broken,"
                f" {fixed} fixed"
            )
        return line


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def _changed_keys(old: Config, new: Config) -> list[str]:
    changed = []
    for section in ("mechanic", "llm", "repair"):
        before, after = getattr(old, section), getattr(new, section)
        for item in dataclasses.fields(before):
            if getattr(before, item.name) != getattr(after, item.name):
                changed.append(f"{section}.{item.name}")
    if old.watches != new.watches:
        changed.append("watch")
    return changed


def run(config_path: Path) -> int:
    """Load the config, take the state folder and run until told to stop."""
    from mechanic import log as logs

    config = load_config(Path(config_path).expanduser().absolute())
    check_folders(config)
    Finder(config).check_sizes()
    try:
        logs.configure(
            config.mechanic.state_dir,
            max_mb=config.mechanic.log_max_mb,
            journal=logs.under_journal(),
        )
    except OSError as exc:  # the log lives in the state folder
        raise MechanicError(
            f"cannot use the state folder {config.mechanic.state_dir} (mechanic.state_dir):"
            f" {exc.strerror or exc}"
        ) from None
    from mechanic.store import Store

    Store.open(config.mechanic.state_dir).close()  # an unusable store stops it here (exit 2)
    return Daemon(config).run()
