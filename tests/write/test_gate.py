"""The write gate: after a stop no write begins, a write under way holds the
stop back, and the daemon's veto (the live protected list) has the last word."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.discovery import Guard
from mechanic.write.gate import WriteGate
from mechanic.write.writer import Writer

BROKEN = b"def f(:\n    return 1\n"
FIXED = b"def f():\n    return 1\n"


@pytest.fixture
def writegate():
    return WriteGate()  # the daemon's: its stop event and its veto


def apply(target: Path, gate: WriteGate):
    writer = Writer(target.parent / "backups", Guard([], [target.parent]), gate=gate)
    return writer.apply(target, original=BROKEN, fixed=FIXED, checker=PythonChecker())


def test_after_a_stop_no_fix_is_written(tmp_path, writegate):
    target = tmp_path / "calc.py"
    target.write_bytes(BROKEN)
    assert writegate.request_stop(timeout=1)
    result = apply(target, writegate)
    assert result.outcome == "skipped" and "stopping" in result.reason
    assert target.read_bytes() == BROKEN
    assert not (tmp_path / "backups").exists()


def test_a_veto_refuses_the_write_with_its_reason(tmp_path, writegate):
    target = tmp_path / "calc.py"
    target.write_bytes(BROKEN)
    writegate.veto = lambda path: "protected now" if path.name == "calc.py" else None
    result = apply(target, writegate)
    assert (result.outcome, result.reason) == ("skipped", "protected now")
    assert target.read_bytes() == BROKEN
    writegate.veto = lambda _path: None
    assert apply(target, writegate).outcome == "applied"


def test_a_stop_waits_for_a_write_under_way(writegate):
    inside, release = threading.Event(), threading.Event()
    finished: list[float] = []

    def writer() -> None:
        with writegate.entered(Path("x.py")) as refusal:
            assert refusal is None
            inside.set()
            release.wait(5)
            finished.append(time.monotonic())

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(5)
    assert writegate.request_stop(timeout=0.2) is False  # still writing
    release.set()
    assert writegate.request_stop(timeout=5) is True
    stopped = time.monotonic()
    thread.join()
    assert finished and finished[0] <= stopped


def test_one_gate_stopped_leaves_another_writer_free(tmp_path):
    # No process-wide stop: a daemon's stop reaches its own writers only.
    stopped, other = WriteGate(), WriteGate()
    assert stopped.request_stop(timeout=1)
    target = tmp_path / "calc.py"
    target.write_bytes(BROKEN)
    assert apply(target, stopped).outcome == "skipped"
    assert apply(target, other).outcome == "applied"
    assert target.read_bytes() == FIXED
