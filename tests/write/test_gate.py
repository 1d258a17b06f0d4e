"""The write gate: after a stop no write begins, a write under way holds the
stop back, and the daemon's veto (the live protected list) has the last word."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.discovery import Guard
from mechanic.write import gate as writegate
from mechanic.write.transaction import apply_fix

BROKEN = b"def f(:\n    return 1\n"
FIXED = b"def f():\n    return 1\n"


@pytest.fixture(autouse=True)
def clean_gate():
    writegate.reset()
    yield
    writegate.reset()


def apply(target: Path):
    return apply_fix(
        target,
        original=BROKEN,
        fixed=FIXED,
        checker=PythonChecker(),
        backup_dir=target.parent / "backups",
        guard=Guard([], [target.parent]),
    )


def test_after_a_stop_no_fix_is_written(tmp_path):
    target = tmp_path / "calc.py"
    target.write_bytes(BROKEN)
    assert writegate.request_stop(timeout=1)
    result = apply(target)
    assert result.outcome == "skipped" and "stopping" in result.reason
    assert target.read_bytes() == BROKEN
    assert not (tmp_path / "backups").exists()


def test_a_veto_refuses_the_write_with_its_reason(tmp_path):
    target = tmp_path / "calc.py"
    target.write_bytes(BROKEN)
    writegate.set_veto(lambda path: "protected now" if path.name == "calc.py" else None)
    result = apply(target)
    assert (result.outcome, result.reason) == ("skipped", "protected now")
    assert target.read_bytes() == BROKEN
    writegate.set_veto(lambda _path: None)
    assert apply(target).outcome == "applied"


def test_a_stop_waits_for_a_write_under_way():
    inside, release = threading.Event(), threading.Event()
    finished: list[float] = []

    def writer() -> None:
        with writegate.write_gate(Path("x.py")) as refusal:
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
