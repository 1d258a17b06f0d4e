"""The daemon's parts in-process: the file watcher and its polling fallback, the
scheduler's handling of missed runs, targeted cycles, the quiet hold, the
notify protocol and journal lines."""

from __future__ import annotations

import errno
import os
import socket
import threading
import time
import uuid

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED
from watchdog.observers import Observer

from mechanic import log as logs
from mechanic.config.load import load_config
from mechanic.cycle import run_cycle
from mechanic.daemon.main import Daemon, build_scheduler, daemon_lock, running_daemon
from mechanic.daemon.sd_notify import Notifier
from mechanic.daemon.watcher import Changes, Watcher
from mechanic.store import Store

BROKEN_PY = "def f(:\n    pass\n"


def wait_for(condition, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def refusing_observer():
    """A native observer whose first watch the OS refuses, as inotify does at
    fs.inotify.max_user_watches (this cannot be provoked without root)."""
    observer = Observer()

    def start() -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    observer.start = start
    return observer


def test_changes_under_a_root_are_marked_and_the_rest_ignored(workspace):
    workspace.write_config(
        mechanic={"protected": ["core.js"]}, watch={"exclude": ["**/node_modules/**"]}
    )
    config = load_config(workspace.config_path)
    changes = Changes()
    watcher = Watcher(config, changes)
    watcher.start()
    try:
        assert watcher.kind in ("inotify", "fsevents", "kqueue")
        workspace.file("node_modules/dep/index.js", BROKEN_PY)
        workspace.file("lib/core.js", BROKEN_PY)
        workspace.file("notes.txt", "hello")
        workspace.file(".calc.py.x1.mechanic-tmp", BROKEN_PY)  # our own temp file
        wanted = workspace.file("lib/calc.py", BROKEN_PY)
        assert wait_for(lambda: len(changes) > 0)
        time.sleep(0.5)  # give the ignored ones every chance to show up
        assert changes.due(0) == [wanted]
        (workspace.src / "lib" / "calc.py").read_text()  # reading is no change
        time.sleep(0.5)
        assert len(changes) == 0
    finally:
        watcher.stop()


def test_a_refused_native_watch_falls_back_to_polling_and_still_sees_changes(workspace):
    config = load_config(workspace.config_path)
    changes = Changes()
    watcher = Watcher(config, changes, native=refusing_observer, poll_seconds=0.2)
    watcher.start()
    try:
        assert watcher.kind == "polling"
        assert "refused more file watches" in watcher.fallback_reason
        path = workspace.file("calc.py", BROKEN_PY)
        assert wait_for(lambda: len(changes) > 0)
        assert changes.due(0) == [path]
    finally:
        watcher.stop()


def test_doctor_reports_a_daemon_that_fell_back_to_polling(workspace, tmp_path):
    config = load_config(workspace.config_path)

    def factory(config, changes):
        return Watcher(config, changes, native=refusing_observer, poll_seconds=0.2)

    logs.configure(None, console=None)
    daemon = Daemon(config, watcher_factory=factory)
    with daemon_lock(config.mechanic.state_dir):
        daemon.start_watching()
        try:
            state = running_daemon(config.mechanic.state_dir)
            assert state["pid"] == os.getpid() and state["watcher"] == "polling"
            result = workspace.run("doctor", env={"MECHANIC_SERVICE_DIR": str(tmp_path / "u")})
        finally:
            daemon.watcher.stop()
    assert result.returncode == 1
    assert "problem  daemon" in result.stdout and "polling" in result.stdout
    assert "fs.inotify.max_user_watches" in result.stdout
    assert running_daemon(config.mechanic.state_dir) is None  # the lock is gone with it


def test_the_quiet_clock_releases_only_files_left_alone(tmp_path):
    changes = Changes()
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    changes.touch(a, when=100.0)
    changes.touch(b, when=104.0)
    assert changes.due(5, now=106.0) == [a]
    changes.touch(b, when=108.0)  # touched again: its clock starts over
    assert changes.due(5, now=111.0) == []
    assert changes.due(5, now=113.0) == [b]


def test_runs_missed_while_asleep_run_once_and_are_not_dropped():
    runs: list[float] = []
    submitted: list[int] = []
    missed: list[object] = []
    scheduler = build_scheduler(2.0, lambda: runs.append(time.monotonic()))
    scheduler.add_listener(
        lambda e: submitted.append(len(e.scheduled_run_times)), EVENT_JOB_SUBMITTED
    )
    scheduler.add_listener(missed.append, EVENT_JOB_MISSED)
    executed = threading.Event()
    scheduler.add_listener(lambda _e: executed.set(), EVENT_JOB_EXECUTED)
    scheduler.start()
    try:
        assert executed.wait(5)  # the run at start
        assert len(runs) == 1
        scheduler.pause()  # the machine sleeps through two runs (due at 2 s and 4 s)
        time.sleep(5.6)
        submitted.clear()
        executed.clear()
        scheduler.resume()
        assert executed.wait(5)
        # Two missed runs, the later one 1.6 s late (past APScheduler's default 1 s
        # grace, which would drop it): one run for both, and none dropped.
        assert submitted[0] == 1
        assert missed == []
    finally:
        scheduler.shutdown(wait=False)


def test_a_targeted_cycle_touches_just_the_files_named(workspace):
    workspace.write_config(repair={"deterministic": False})  # keep both files broken
    target = workspace.file("a.py", BROKEN_PY)
    other = workspace.file("b.py", BROKEN_PY)
    config = load_config(workspace.config_path)
    with Store.open(config.mechanic.state_dir) as store:
        report = run_cycle(config, store, only=[target])
        assert [f.real for f in report.scan.files] == [target]
        assert list(report.scan.findings) == [target]
        full = run_cycle(config, store)
    assert set(full.scan.findings) == {target, other}


def test_a_recently_changed_broken_file_is_held_for_the_quiet_period(workspace):
    fresh = workspace.file("fresh.py", BROKEN_PY)
    settled = workspace.file("settled.py", BROKEN_PY)
    past = time.time() - 600
    os.utime(settled, (past, past))
    config = load_config(workspace.config_path)
    with Store.open(config.mechanic.state_dir) as store:
        report = run_cycle(config, store, quiet_seconds=120)
    assert "quiet_seconds" in report.held[fresh]
    # Not held for quiet: the zero-token rung repaired it (backend is none).
    assert "quiet_seconds" not in report.held.get(settled, "")
    assert [a.outcome for a in report.attempts if a.path == str(settled)] == ["applied"]


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs unix sockets")
def test_notify_speaks_to_abstract_sockets_and_ignores_a_foreign_watchdog_pid():
    name = f"mechanic-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind("\0" + name)
        listener.settimeout(2)
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "4000000"})
        assert notifier.watchdog_seconds == 4.0
        assert notifier.ready(status="watching")
        message = listener.recv(1024).decode()
        assert message.splitlines()[0] == "READY=1" and "STATUS=watching" in message
    other = Notifier({"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"})
    assert other.watchdog_seconds is None
    assert Notifier({}).send("READY=1") is False  # outside systemd: nothing, no error


def test_journal_lines_carry_the_priority_and_no_timestamp():
    line = logs.journal_renderer(
        None, "error", {"event": "cycle.failed", "level": "error", "timestamp": "x", "error": "a b"}
    )
    assert line == '<3>cycle.failed error="a b"'
    info = logs.journal_renderer(None, "info", {"event": "cycle.done", "level": "info", "n": 3})
    assert info == "<6>cycle.done n=3"
