"""One writer: the checker judges each candidate's bytes once in memory, and
what it judged is exactly what is written; a candidate that does not parse is
never written. Counted through a real checker, not a mock of the transaction."""

from __future__ import annotations

from pathlib import Path

from mechanic.config.load import load_config
from mechanic.cycle import run_cycle
from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.discovery import Guard, WatchedFile
from mechanic.repair.validate import ChosenFile, read_work, validate_and_apply
from mechanic.store import AttemptRecord, Store
from mechanic.write.gate import WriteGate
from mechanic.write.writer import Writer

BROKEN = b"def total(items):\n    return sum(items\n"
FIXED_TEXT = "def total(items):\n    return sum(items)\n"


class CountingChecker(PythonChecker):
    """The real Python checker, keeping every source it judged in memory and
    every file it judged on disk."""

    def __init__(self) -> None:
        self.in_memory: list[bytes] = []
        self.on_disk: list[Path] = []
        self._reading_disk = False

    def check_source(self, path: Path, source: bytes):
        if not self._reading_disk:
            self.in_memory.append(source)
        return super().check_source(path, source)

    def check_files(self, paths):
        paths = list(paths)
        self.on_disk.extend(paths)
        self._reading_disk = True
        try:
            return super().check_files(paths)
        finally:
            self._reading_disk = False


def repair(tmp_path: Path, text: str, checker: CountingChecker) -> tuple[AttemptRecord, Path]:
    target = tmp_path / "calc.py"
    target.write_bytes(BROKEN)
    finding = checker.check_source(target, BROKEN)
    assert finding is not None
    checker.in_memory.clear()
    stat = target.stat()
    watched = WatchedFile(
        target, target, tmp_path, "calc.py", "python", stat.st_size, stat.st_mtime_ns
    )
    guard = Guard([], [tmp_path])
    work = read_work(ChosenFile(watched, finding), checker, guard)
    assert not isinstance(work, str), work
    record = AttemptRecord(path=str(target), language="python", error="x", outcome="skipped")
    writer = Writer(tmp_path / "backups", guard)
    validate_and_apply(work, text, record, writer=writer, max_file_kb=1024)
    return record, target


def test_the_checker_judges_a_candidate_once_and_that_is_what_is_written(tmp_path):
    checker = CountingChecker()
    record, target = repair(tmp_path, FIXED_TEXT, checker)
    assert record.outcome == "applied", record.reason
    assert target.read_bytes() == FIXED_TEXT.encode()
    # Once in memory (before the meaning guard and the write), with exactly the
    # bytes that were then written; once on disk after the rename.
    assert checker.in_memory.count(FIXED_TEXT.encode()) == 1
    assert checker.on_disk == [target]


def test_a_candidate_that_does_not_parse_is_never_written(tmp_path):
    checker = CountingChecker()
    still_broken = "def total(items):\n    return sum(items]\n"
    record, target = repair(tmp_path, still_broken, checker)
    assert record.outcome == "reverted"
    assert "never written" in record.reason
    assert target.read_bytes() == BROKEN
    assert checker.in_memory.count(still_broken.encode()) == 1
    assert checker.on_disk == []
    assert not (tmp_path / "backups").exists() or not any((tmp_path / "backups").glob("*.bak"))


def test_review_mode_is_the_writers_not_the_process(tmp_path):
    # Two writers in one process: one keeps for review, the other writes.
    checker = PythonChecker()
    target = tmp_path / "calc.py"
    target.write_bytes(BROKEN)
    guard = Guard([], [tmp_path])
    fixed = FIXED_TEXT.encode()
    held = Writer(tmp_path / "backups", guard, review=True)
    kept = held.apply(target, original=BROKEN, fixed=fixed, checker=checker)
    assert kept.outcome == "pending"
    assert target.read_bytes() == BROKEN
    applied = Writer(tmp_path / "backups", guard).apply(
        target, original=BROKEN, fixed=fixed, checker=checker
    )
    assert applied.outcome == "applied"
    assert target.read_bytes() == fixed


def test_a_stopped_daemons_gate_reaches_every_write_of_its_cycle(workspace):
    # The daemon owns one stop event and hands its gate to each cycle: once it is
    # set, the cycle writes nothing; a cycle with a gate of its own is not stopped.
    broken = "def f(:\n    pass\n"
    target = workspace.file("app.py", broken)
    config = load_config(workspace.config_path)
    stopped = WriteGate()
    assert stopped.request_stop(timeout=1)
    with Store.open(config.mechanic.state_dir) as store:
        report = run_cycle(config, store, gate=stopped)
        assert target.read_text() == broken
        assert not any(a.outcome == "applied" for a in report.attempts)
        assert report.attempts and all("stopping" in a.reason for a in report.attempts)
        again = run_cycle(config, store)
    assert [a.outcome for a in again.attempts] == ["applied"]
    assert target.read_text() != broken
