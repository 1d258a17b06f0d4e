"""`mechanic run` as a real subprocess: scheduled and event-driven cycles, the
quiet period, live config, one daemon per state folder, stopping, sd_notify.

Timings are short (quiet_seconds of 1 to 3 s) so each test runs in seconds; the
model is the loopback Ollama stand-in, driven from this process.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.support.daemon_process import DaemonProcess
from tests.support.model_user import UserConfig
from tests.support.ollama_standin import InferenceRequest, Reply

BROKEN_PY = "def total(items):\n    return sum(items\n\nprint(total([1, 2]))\n"
FIXED_PY = "def total(items):\n    return sum(items)\n\nprint(total([1, 2]))\n"
BROKEN_JS = "function f(x) {\n  return [x].map(y => y * 2));\n}\nmodule.exports = { f };\n"
FIXED_JS = BROKEN_JS.replace("2));", "2);")


@pytest.fixture
def user_config():
    """The stand-in, with short daemon timings."""
    return UserConfig(mechanic={"interval_minutes": 60, "quiet_seconds": 1}, timeout_seconds=60)


@pytest.fixture
def start():
    started: list[DaemonProcess] = []

    def launch(workspace, env=None) -> DaemonProcess:
        process = DaemonProcess(workspace, env)
        started.append(process)
        return process

    yield launch
    for process in started:
        process.close()


def aged(path: Path, seconds: float = 3600) -> Path:
    """Make `path` look untouched for `seconds`: broken before mechanic started."""
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def fixed_by_name(request: InferenceRequest) -> str:
    """The stand-in's answer: the fix for whichever file the prompt is about."""
    for name, fixed in (("worker.js", FIXED_JS), ("calc.py", FIXED_PY)):
        if name in request.prompt:
            return fixed
    return ""


def test_the_first_cycle_runs_at_start(user, start):
    path = aged(user.file("calc.py", BROKEN_PY))
    user.ollama.reply(FIXED_PY)
    daemon = start(user)
    done = daemon.wait_for("cycle.done")
    assert done["applied"] == 1
    assert path.read_text() == FIXED_PY
    assert len(user.backups_of("calc.py")) == 1


def test_a_file_broken_while_running_is_repaired_after_the_quiet_period(user, start):
    user.configure(quiet_seconds=2)  # and a full cycle only every hour
    user.file("ok.py", "x = 1\n")
    asked_at: list[float] = []
    user.ollama.reply(Reply(FIXED_PY, on_request=lambda _r: asked_at.append(time.time())))
    daemon = start(user)
    daemon.wait_for("cycle.done")
    path = user.file("calc.py", BROKEN_PY)
    broken_at = path.stat().st_mtime
    daemon.wait_until(lambda: path.read_text() == FIXED_PY, timeout=30)
    assert len(asked_at) == 1
    assert asked_at[0] - broken_at >= 2 - 0.05  # not before it had been quiet for 2 s
    queued = daemon.wait_for("watch.queued")
    assert queued["files"] == [str(path)]  # a targeted check of that file alone


def test_a_file_rewritten_every_second_is_left_alone_until_it_settles(user, start):
    # A full cycle every 3 s too: those must hold the file as well.
    user.configure(quiet_seconds=3, interval_minutes=0.05)
    path = user.file("calc.py", BROKEN_PY)
    user.ollama.respond(lambda r: FIXED_PY + re.search(r"# edit \d+\n", r.prompt).group(0))
    daemon = start(user)
    last = ""
    for edit in range(8):  # a person typing, saving every second, broken all along
        last = BROKEN_PY + f"# edit {edit}\n"
        path.write_text(last)
        time.sleep(1)
        assert user.ollama.inference_requests == [], "asked the model while the file changed"
    assert path.read_text() == last
    held = [
        e
        for e in daemon.events()
        if e.get("event") == "repair.held" and "quiet_seconds" in e.get("reason", "")
    ]
    assert held, "no full cycle ran while the file was being edited"
    # Once it settles, it is repaired.
    daemon.wait_until(lambda: path.read_text() == FIXED_PY + "# edit 7\n")
    assert len(user.ollama.inference_requests) == 1


def test_an_edit_to_protected_is_honoured_without_a_restart(user, start):
    user.configure(interval_minutes=0.05)
    user.ollama.respond(fixed_by_name)
    daemon = start(user)
    daemon.wait_for("cycle.done")
    user.configure(interval_minutes=0.05, protected=["core.js"])
    reloaded = daemon.wait_for("config.reloaded", timeout=10)
    assert "mechanic.protected" in reloaded["changed"]
    core = user.file("lib/core.js", BROKEN_JS.replace("f(x)", "coreSecret(x)"))
    worker = user.file("worker.js", BROKEN_JS)
    daemon.wait_until(lambda: worker.read_text() == FIXED_JS)
    daemon.wait_for(
        lambda e: (
            e.get("event") == "repair.held"
            and e.get("file") == str(core)
            and "protected" in e.get("reason", "")
        )
    )
    assert core.read_text() == BROKEN_JS.replace("f(x)", "coreSecret(x)")
    assert all("coreSecret" not in r.prompt_text for r in user.ollama.requests)
    assert daemon.proc.poll() is None


def test_a_file_protected_while_the_model_answers_is_not_written(user, start):
    path = aged(user.file("calc.py", BROKEN_PY))

    def protect_it(_request: InferenceRequest) -> None:
        user.configure(protected=["calc.py"])  # the person protects it mid-answer

    user.ollama.reply(Reply(FIXED_PY, delay_seconds=3, on_request=protect_it))
    daemon = start(user)
    done = daemon.wait_for("cycle.done")
    assert done["applied"] == 0
    assert path.read_text() == BROKEN_PY
    assert user.backups_of("calc.py") == []
    skipped = daemon.wait_for("repair.skipped")
    assert "protected by config.toml as it is now" in skipped["reason"]


def test_an_invalid_config_edit_keeps_the_last_good_one_running(user, start):
    user.ollama.reply(FIXED_PY)
    daemon = start(user)
    daemon.wait_for("cycle.done")
    text = user.config_path.read_text().replace(
        'backend = "ollama"', 'temperature = 7\nbackend = "ollama"'
    )
    user.config_path.write_text(text)
    invalid = daemon.wait_for("config.invalid", timeout=10)
    assert invalid["key"] == "llm.temperature"
    assert invalid["line"] is not None
    assert daemon.proc.poll() is None
    # The last good config still works: a broken file is still repaired.
    path = user.file("calc.py", BROKEN_PY)
    daemon.wait_until(lambda: path.read_text() == FIXED_PY)
    # SIGHUP reloads too, and a good config is taken up again.
    user.configure(quiet_seconds=1)
    count = len(daemon.events())
    daemon.signal(signal.SIGHUP)
    reloaded = daemon.wait_for("config.reloaded", after=count, timeout=10)
    assert reloaded["by"] in ("SIGHUP", "edit")


def test_a_second_daemon_on_the_same_state_folder_is_refused(user, start):
    daemon = start(user)
    daemon.wait_for("daemon.start")
    began = time.monotonic()
    second = user.run("run", timeout=30)
    assert time.monotonic() - began < 10
    assert second.returncode == 3  # busy: its own exit code
    assert f"pid {daemon.pid}" in second.stderr
    assert "already running" in second.stderr
    assert daemon.proc.poll() is None


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_during_a_slow_model_call_exits_cleanly_and_writes_nothing(user, start, signum):
    original = BROKEN_PY.encode()
    path = aged(user.file("calc.py", original))
    asked = threading.Event()
    user.ollama.reply(Reply(FIXED_PY, delay_seconds=30, on_request=lambda _r: asked.set()))
    daemon = start(user)
    assert asked.wait(30), daemon.output()
    began = time.monotonic()
    daemon.signal(signum)
    assert daemon.proc.wait(timeout=10) == 0
    assert time.monotonic() - began < 10
    assert path.read_bytes() == original
    assert user.backups_of("calc.py") == []
    assert [p.name for p in user.src.iterdir()] == ["calc.py"]  # no temp file left behind
    assert any(e.get("event") == "daemon.stopped" for e in daemon.events())


def test_a_stop_while_the_tests_validate_a_fix_ends_the_test_run_too(user, start):
    marker = user.root / "tests-running"
    script = user.root / "slow_tests.sh"
    script.write_text(f'#!/bin/sh\necho $$ > "{marker}"\nexec sleep 60\n')
    script.chmod(0o755)
    user.write_config(
        mechanic={"interval_minutes": 60, "quiet_seconds": 1},
        llm={"backend": "ollama", "host": user.ollama.url, "timeout_seconds": 60},
        watch={"test_cmd": [str(script)], "test_timeout_seconds": 120},
    )
    path = aged(user.file("calc.py", BROKEN_PY))
    user.ollama.reply(FIXED_PY)
    daemon = start(user)
    daemon.wait_until(marker.exists)
    time.sleep(0.2)  # let the script write its pid
    test_pid = int(marker.read_text())
    began = time.monotonic()
    daemon.signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=10) == 0
    assert time.monotonic() - began < 10
    assert path.read_text() == BROKEN_PY
    # The test run was ended with the daemon, not left sleeping for a minute.
    assert _gone(test_pid, timeout=5)


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_sd_notify_ready_and_watchdog_datagrams_arrive(user, start):
    folder = tempfile.mkdtemp(prefix="mn-", dir="/tmp")  # unix socket paths must be short
    address = os.path.join(folder, "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        listener.bind(address)
        listener.settimeout(1)
        daemon = start(user, env={"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"})
        messages: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                messages.append(listener.recv(4096).decode())
            except TimeoutError:
                continue
            if sum("WATCHDOG=1" in m for m in messages) >= 2:
                break
        ready = [m for m in messages if "READY=1" in m]
        assert ready, messages
        assert f"MAINPID={daemon.pid}" in ready[0]
        assert sum("WATCHDOG=1" in m for m in messages) >= 2, messages
        daemon.signal(signal.SIGTERM)
        assert daemon.proc.wait(timeout=10) == 0
        rest = []
        while True:
            try:
                rest.append(listener.recv(4096).decode())
            except TimeoutError:
                break
        assert any("STOPPING=1" in m for m in rest), rest
    finally:
        listener.close()
        os.unlink(address)
        os.rmdir(folder)


def test_under_the_journal_lines_carry_a_priority_and_no_timestamp(user, start):
    stderr = user.root / "daemon.stderr"
    stderr.write_bytes(b"")
    info = stderr.stat()
    daemon = start(user, env={"JOURNAL_STREAM": f"{info.st_dev}:{info.st_ino}"})
    daemon.wait_for("cycle.done")
    lines = daemon.output().splitlines()
    assert any(line.startswith("<6>daemon.start pid=") for line in lines), lines
    assert all(line.startswith("<") for line in lines if line.strip()), lines
    assert not any(re.search(r"\d{4}-\d\d-\d\dT\d\d:", line) for line in lines)  # journal stamps


def test_status_shows_the_running_daemon_and_its_watcher(user, start):
    daemon = start(user)
    daemon.wait_for("cycle.done")
    shown = user.run("status", "--json").json["daemon"]
    assert shown["pid"] == daemon.pid and shown["watcher"] in ("inotify", "fsevents", "kqueue")
    assert f"daemon: running, pid {daemon.pid}" in user.run("status").stdout
    daemon.signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=10) == 0
    assert user.run("status", "--json").json["daemon"] is None


def test_an_unusable_state_folder_stops_it_at_once_with_the_key_named(user):
    (user.root / "blocker").write_text("")
    user.configure(state_dir="blocker/state")
    result = user.run("run", timeout=30)
    assert result.returncode == 2  # a config error, like every other command's
    assert "blocker, on its way, is a file, not a folder" in result.stderr
    assert "mechanic.state_dir" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_cycle_stuck_past_max_cycle_minutes_stops_the_watchdog_pings(user, start):
    # A model call that hangs (as a hung checker or test would): with a 1.2 s bound
    # the pings must stop, so systemd's WatchdogSec would restart the service.
    user.configure(max_cycle_minutes=0.02)
    aged(user.file("calc.py", BROKEN_PY))
    asked = threading.Event()
    user.ollama.reply(Reply(FIXED_PY, delay_seconds=60, on_request=lambda _r: asked.set()))
    folder = tempfile.mkdtemp(prefix="mn-", dir="/tmp")  # unix socket paths must be short
    address = os.path.join(folder, "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    received: list[tuple[float, str]] = []
    done = threading.Event()

    def listen() -> None:
        while not done.is_set():
            try:
                received.append((time.monotonic(), listener.recv(4096).decode()))
            except (TimeoutError, OSError):
                continue

    try:
        listener.bind(address)
        listener.settimeout(0.1)
        threading.Thread(target=listen, daemon=True).start()
        daemon = start(user, env={"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"})
        assert asked.wait(30), daemon.output()
        stuck = daemon.wait_for("daemon.cycle_stuck", timeout=15)
        seen_at = time.monotonic()
        assert stuck["max_cycle_minutes"] == 0.02 and stuck["running_seconds"] >= 1.2
        assert "systemd restarts" in stuck["action"]
        time.sleep(3)  # pings were due every tick (0.5 s)
        pings = [at for at, m in received if "WATCHDOG=1" in m]
        assert [at for at in pings if at < seen_at], "no ping before the cycle was stuck"
        late = [round(at - seen_at, 2) for at in pings if at > seen_at + 0.3]
        assert late == [], f"pings went on after the cycle was stuck: {late}"
        assert any("STATUS=stuck: a cycle has run" in m for _, m in received), received
        assert daemon.proc.poll() is None  # systemd, not mechanic, decides to restart
    finally:
        done.set()
        listener.close()
        os.unlink(address)
        os.rmdir(folder)


def _cycle_rows(workspace) -> list[dict]:
    with sqlite3.connect(workspace.state / "mechanic.sqlite3") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM cycles ORDER BY id")]


def test_a_cycle_abandoned_at_stop_is_closed_as_abandoned_on_the_next_start(user, start):
    path = aged(user.file("calc.py", BROKEN_PY))
    asked = threading.Event()
    user.ollama.reply(Reply(FIXED_PY, delay_seconds=30, on_request=lambda _r: asked.set()))
    first = start(user)
    assert asked.wait(30), first.output()
    first.signal(signal.SIGTERM)
    assert first.proc.wait(timeout=10) == 0
    [row] = _cycle_rows(user)
    assert row["finished_at"] is None  # the stop left it mid-cycle

    user.ollama.reply(FIXED_PY)
    second = start(user)
    abandoned = second.wait_for("cycle.abandoned")
    assert abandoned["cycle"] == row["id"]
    second.wait_for("cycle.done")
    old, new = _cycle_rows(user)
    assert old["id"] == row["id"] and old["finished_at"] is not None
    assert old["error"] == "abandoned: mechanic stopped during this cycle"
    assert new["finished_at"] is not None and new["error"] is None and new["applied"] == 1
    assert path.read_text() == FIXED_PY
