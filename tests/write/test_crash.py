"""Crash safety: a mechanic killed at any instant leaves every file as its
original bytes or a validated fix, and the next start cleans up after it."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mechanic.config.load import parse_config
from mechanic.config.settings import Config
from mechanic.cycle import record_recovered
from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.discovery import Guard
from mechanic.errors import StoreError
from mechanic.store import AttemptRecord, Store
from mechanic.write.journal import intents_dir
from mechanic.write.recovery import recover_interrupted
from mechanic.write.transaction import apply_fix, settle, sha256
from tests.support.crash_driver import (
    ORIGINAL,
    FlakyOnDisk,
    bad,
    broken_module,
    fixed_module,
    good,
    kill_per_plan,
    model_answer,
    version_of,
)
from tests.support.workspace import REPO

DRIVER = REPO / "tests" / "support" / "crash_driver.py"
FILES = ("a.py", "b.py", "c.py")


def valid_states(data: bytes) -> bool:
    """Original, or exactly some validated fix: never empty, partial, or the
    version that failed on disk."""
    return data == ORIGINAL or data == good(version_of(data))


def config_for(root: Path, backups: Path, state: Path) -> Config:
    """The config a recovering cycle would hold: recovery records with it."""
    text = (
        f"[mechanic]\nstate_dir = {json.dumps(str(state))}\n"
        f"backup_dir = {json.dumps(str(backups))}\n"
        f'[llm]\nbackend = "none"\n[[watch]]\npath = {json.dumps(str(root))}\n'
    )
    return parse_config(text, root.parent / "config.toml")


def test_sigkill_at_random_instants_leaves_only_original_or_validated_files(tmp_path):
    """The transaction alone, killed at random instants while it writes and
    records (as a cycle does: the row, then settle) one file after another."""
    root, backups, state = tmp_path / "src", tmp_path / "backups", tmp_path / "state"
    root.mkdir()
    config = config_for(root, backups, state)
    for name in FILES:
        (root / name).write_bytes(ORIGINAL)
    seed = int(os.environ.get("MECHANIC_CRASH_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    repairs = kills = restored = 0
    while repairs < 60 or kills < 20:
        driver = subprocess.Popen(
            [
                sys.executable,
                DRIVER,
                "transaction",
                root,
                backups,
                state,
                str(rng.randrange(10**6)),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert driver.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0, 0.15))
        driver.send_signal(signal.SIGKILL)
        finished = driver.communicate()[0].split()
        driver.wait()
        kills += 1
        repairs += len(finished) + 1  # the one it was killed in
        # Before recovery: whatever instant it died at, no file is empty or partial.
        for name in FILES:
            data = (root / name).read_bytes()
            assert data == ORIGINAL or data in (good(version_of(data)), bad(version_of(data))), (
                f"seed {seed}: {name} holds a third version"
            )
        with Store.open(state) as store:
            results = recover_interrupted(
                backups,
                lambda language: FlakyOnDisk(),
                lambda item, store=store: record_recovered(config, store, item, None),
            )
            attempts = store.recent_attempts(10**6)
        restored += sum(r.action == "restored" for r in results)
        for name in FILES:
            data = (root / name).read_bytes()
            assert valid_states(data), f"seed {seed}: {name}"
            # The version it holds, if it is not the original, is on the record once.
            kept = [
                a
                for a in attempts
                if a.path == str(root / name)
                and a.outcome == "applied"
                and a.new_sha == sha256(data)
            ]
            assert len(kept) == (data != ORIGINAL), f"seed {seed}: {name}: {len(kept)} rows"
        written = [(a.path, a.new_sha) for a in attempts if a.outcome == "applied"]
        assert len(written) == len(set(written)), f"seed {seed}: a write recorded twice"
        assert sorted(p.name for p in root.iterdir()) == sorted(FILES), f"seed {seed}"
        assert not intents_dir(backups).exists() or not list(intents_dir(backups).iterdir())
        assert not [p for p in backups.iterdir() if p.name.endswith(".part")], f"seed {seed}"
    print(f"seed {seed}: {kills} kills over {repairs} repairs, {restored} restored on recovery")


def test_an_interrupted_write_of_a_fix_that_failed_on_disk_is_undone(tmp_path):
    """The phase marker decides: a written file that had failed its check comes
    back to its original bytes even when recovery has no checker at hand."""
    root, backups = tmp_path / "src", tmp_path / "backups"
    root.mkdir()
    target = root / "a.py"
    target.write_bytes(ORIGINAL)
    from mechanic.write import journal, transaction

    backup = transaction.write_backup(target, ORIGINAL, backups)
    intent = journal.begin(
        intents_dir(backups),
        {
            "target": str(target),
            "backup": str(backup),
            "old_sha": transaction.sha256(ORIGINAL),
            "new_sha": transaction.sha256(bad(1)),
            "language": "python",
            "phase": "apply",
        },
    )
    transaction.replace_atomic(target, bad(1), expected=ORIGINAL, temp=intent.intent.temp(0))
    intent.mark("revert")
    intent.intent.temp(1).write_bytes(ORIGINAL[:5])  # killed while writing the restore
    # The process "dies": its lock goes with its file descriptor.
    os.close(intent._fd)
    results = recover_interrupted(backups)
    assert [r.action for r in results] == ["restored"]
    assert target.read_bytes() == ORIGINAL
    assert sorted(p.name for p in root.iterdir()) == ["a.py"]


def test_a_live_transaction_is_never_recovered_under_it(tmp_path):
    root, backups = tmp_path / "src", tmp_path / "backups"
    root.mkdir()
    target = root / "a.py"
    target.write_bytes(ORIGINAL)
    seen = []

    class RecoversMidWrite(PythonChecker):
        def check_files(self, paths):
            # Another mechanic starting right now must leave this write alone.
            seen.extend(recover_interrupted(backups, lambda language: FlakyOnDisk()))
            return super().check_files(paths)

    result = apply_fix(
        target,
        original=ORIGINAL,
        fixed=good(1),
        checker=RecoversMidWrite(),
        backup_dir=backups,
        guard=Guard([], [root]),
    )
    assert result.outcome == "applied"
    assert seen == []
    assert target.read_bytes() == good(1)
    # Written and checked, not yet on the record: the intent waits for its row.
    waiting = sorted(p.name for p in intents_dir(backups).iterdir())
    assert waiting == [f"{result.intent}.applied", f"{result.intent}.json"]
    settle(backups, result.intent)
    assert list(intents_dir(backups).iterdir()) == []


def applied_unsettled(tmp_path, *, recorded: bool):
    """A fix written and checked by the real transaction, whose process then
    dies before settling it: before the attempt row (`recorded=False`) or just
    after it. Returns (store, target, backups)."""
    root, backups = tmp_path / "src", tmp_path / "backups"
    root.mkdir()
    target = root / "a.py"
    target.write_bytes(ORIGINAL)
    store = Store.open(tmp_path / "state")
    draft = AttemptRecord(
        str(target),
        "python",
        "SyntaxError: bad",
        "skipped",
        backend="ollama",
        model="qwen2.5-coder:7b",
        prompt_tokens=120,
        answer_tokens=30,
        rung="block",
    )
    result = apply_fix(
        target,
        original=ORIGINAL,
        fixed=good(1),
        checker=PythonChecker(),
        backup_dir=backups,
        guard=Guard([], [root]),
        attempt=draft.to_dict(),
    )
    assert result.outcome == "applied" and result.intent
    if recorded:
        draft.outcome, draft.intent, draft.new_sha = "applied", result.intent, result.new_sha
        store.record_attempt(draft)
    return store, target, backups


def test_a_fix_its_process_never_recorded_is_recorded_by_recovery(tmp_path):
    store, target, backups = applied_unsettled(tmp_path, recorded=False)
    config = config_for(target.parent, backups, tmp_path / "state")
    results = recover_interrupted(
        backups,
        lambda language: PythonChecker(),
        lambda item: record_recovered(config, store, item, 7),
    )
    assert [r.action for r in results] == ["kept-new"]
    [row] = store.recent_attempts()
    assert (row.outcome, row.path, row.rung, row.backend, row.model) == (
        "applied",
        str(target),
        "block",
        "ollama",
        "qwen2.5-coder:7b",
    )
    assert (row.error, row.prompt_tokens, row.answer_tokens, row.cycle_id) == (
        "SyntaxError: bad",
        120,
        30,
        7,
    )
    assert (row.old_sha, row.new_sha) == (sha256(ORIGINAL), sha256(good(1)))
    assert Path(row.backup_path).read_bytes() == ORIGINAL
    assert "-def f(:" in row.diff and "+def f():" in row.diff
    assert list(intents_dir(backups).iterdir()) == []


def test_a_fix_recorded_just_before_its_process_died_is_not_recorded_twice(tmp_path):
    store, target, backups = applied_unsettled(tmp_path, recorded=True)
    config = config_for(target.parent, backups, tmp_path / "state")
    results = recover_interrupted(
        backups,
        lambda language: PythonChecker(),
        lambda item: record_recovered(config, store, item, 7),
    )
    assert [r.action for r in results] == ["kept-new"]
    assert len(store.recent_attempts()) == 1
    assert target.read_bytes() == good(1)
    assert list(intents_dir(backups).iterdir()) == []


def test_a_store_that_fails_during_recovery_keeps_the_intent_for_next_time(tmp_path):
    store, _, backups = applied_unsettled(tmp_path, recorded=False)

    def failing(item):
        raise StoreError("disk full")

    with pytest.raises(StoreError):
        recover_interrupted(backups, lambda language: PythonChecker(), failing)
    assert len(list(intents_dir(backups).glob("*.json"))) == 1
    config = config_for(tmp_path / "src", backups, tmp_path / "state")
    recover_interrupted(backups, None, lambda item: record_recovered(config, store, item, None))
    assert [a.outcome for a in store.recent_attempts()] == ["applied"]


def test_a_cycle_recovers_before_it_reads_anything(workspace):
    """`mechanic once` after a crash: the interrupted write is resolved and shown."""
    target = workspace.file("a.py", ORIGINAL)
    from mechanic.write import journal, transaction

    backup = transaction.write_backup(target, ORIGINAL, workspace.backups)
    fixed = b"def f():\n    return 0\n"
    intent = journal.begin(
        intents_dir(workspace.backups),
        {
            "target": str(target),
            "backup": str(backup),
            "old_sha": transaction.sha256(ORIGINAL),
            "new_sha": transaction.sha256(fixed),
            "language": "python",
            "phase": "apply",
        },
    )
    transaction.replace_atomic(target, fixed, expected=ORIGINAL, temp=intent.intent.temp(0))
    os.close(intent._fd)
    result = workspace.run("once", "--json")
    assert result.json["recovered"] == [
        {
            "schema": 1,
            "file": str(target),
            "action": "kept-new",
            "reason": "holds the validated fix",
        }
    ]
    assert target.read_bytes() == fixed
    assert result.returncode == 0
    # The fix its process never recorded is on the record now, and can be undone.
    with Store.open(workspace.state) as store:
        [attempt] = store.recent_attempts()
    assert (attempt.outcome, attempt.path, attempt.backup_path) == (
        "applied",
        str(target),
        str(backup),
    )
    assert "+def f():" in attempt.diff
    assert "recorded on recovery" in attempt.reason
    assert workspace.run("revert", str(attempt.id)).returncode == 0
    assert target.read_bytes() == ORIGINAL


# --- the real commands, killed ------------------------------------------------

# (command, [repair] mode): each killed KILLS times; 4 x 50 = 200 kills in all.
COMMANDS = [("once", "whole"), ("once", "block"), ("run", "whole"), ("run", "block")]
KILLS = int(os.environ.get("MECHANIC_CRASH_KILLS", 50))
EXECS = 1  # of which started from scratch (`python -m mechanic`), not forked


class Launcher:
    """tests/support/crash_driver.py's `commands` mode: forks `mechanic ARGV` and kills it."""

    def __init__(self, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER), "commands"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert self.proc.stdout.readline() == "ready\n"

    def __call__(self, argv: list[str], log: Path, watched: Path, plan: dict | None) -> dict:
        request = {"argv": argv, "log": str(log), "watched": str(watched), "plan": plan}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def exec_and_kill(argv: list[str], workspace, plan: dict) -> dict:
    """The same kill, on a `python -m mechanic` started from scratch."""
    with open(workspace.root / "exec.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mechanic", *argv],
            cwd=workspace.root,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=log,
            stderr=log,
        )
        plan = {**plan, "timeout": plan["timeout"] + 3}  # it has an interpreter to start
        killed = kill_per_plan(proc.pid, plan, workspace.backups, lambda: proc.poll() is not None)
        code = proc.wait()
    return {"killed": killed and code == -signal.SIGKILL, "exit": code}


def kill_plan(rng: random.Random, command: str) -> dict:
    """Mostly just after a backup appears (the write, the rename and the record
    follow within milliseconds); otherwise anywhere in the run."""
    if rng.random() < 0.7:
        delay = rng.uniform(0, 0.004) if rng.random() < 0.8 else rng.uniform(0, 0.04)
        return {"after": "write", "nth": rng.choice((1, 1, 2)), "delay": delay, "timeout": 5}
    return {
        "after": "start",
        "delay": rng.uniform(0, 0.5 if command == "once" else 0.8),
        "timeout": 5,
    }


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def check_files(files: dict[Path, int], seed: int) -> None:
    for path, n in files.items():
        data = path.read_bytes()
        assert data in (broken_module(n), fixed_module(n)), f"seed {seed}: {path.name}: {data!r}"


def check_record(workspace, files: dict[Path, int], mode: str, seed: int) -> int:
    """Every file differing from its original has exactly one attempt row saying
    so, of the rung that made it, whose backup holds the original; no original
    has one. Returns how many files were fixed."""
    with Store.open(workspace.state) as store:
        attempts = store.recent_attempts(10**6)
    fixed = 0
    for path, n in files.items():
        data = path.read_bytes()
        rows = [a for a in attempts if a.path == str(path) and a.outcome == "applied"]
        if data == broken_module(n):
            assert rows == [], f"seed {seed}: {path.name} is original yet recorded as fixed"
            continue
        fixed += 1
        assert len(rows) == 1, f"seed {seed}: {path.name} changed, {len(rows)} attempt rows"
        [row] = rows
        assert (row.old_sha, row.new_sha) == (sha256(broken_module(n)), sha256(data)), seed
        assert row.rung == mode and row.undone_at is None, f"seed {seed}: {row}"
        assert Path(row.backup_path).read_bytes() == broken_module(n), f"seed {seed}"
    return fixed


@pytest.mark.parametrize(("command", "mode"), COMMANDS, ids=[f"{c}-{m}" for c, m in COMMANDS])
def test_killed_commands_leave_every_change_on_the_record(workspace, ollama_standin, command, mode):
    """SIGKILL `mechanic once` / `mechanic run` at random instants, mostly right
    as a fix is written, while they repair files through the Ollama stand-in.
    After each kill every file is its original or its validated fix; after the
    next start's recovery each changed file has exactly one attempt, and no
    intent, temp file or half-written backup is left."""
    seed = int(os.environ.get("MECHANIC_CRASH_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    workspace.write_config(
        mechanic={"file_cooldown_hours": 0, "max_fixes_per_run": 20, "quiet_seconds": 0},
        llm={"backend": "ollama", "host": ollama_standin.url, "timeout_seconds": 20},
        repair={"mode": mode, "deterministic": False},
    )
    ollama_standin.respond(lambda request: model_answer(request.prompt, mode))
    config = str(workspace.config_path)
    argv = ["once", "-q", "--config", config] if command == "once" else ["run", "--config", config]
    launcher = Launcher(workspace.root)
    files: dict[Path, int] = {}
    serial = kills = 0
    try:
        for round_ in range(KILLS * 3):
            if kills >= KILLS:
                break
            while sum(p.read_bytes() == broken_module(n) for p, n in files.items()) < 2:
                serial += 1
                files[workspace.file(f"mod_{serial}.py", broken_module(serial))] = serial
            plan = kill_plan(rng, command)
            if round_ < EXECS:
                answer = exec_and_kill(argv, workspace, plan)
            else:
                answer = launcher(argv, workspace.root / "child.log", workspace.backups, plan)
            assert answer["exit"] in (0, 1, -signal.SIGKILL), f"seed {seed}: {answer}"
            kills += answer["killed"]
            check_files(files, seed)  # whatever instant it died at: never a third version
            if rng.random() < 0.6 and kills < KILLS:
                continue  # the next run recovers, and may be killed while it does
            # A start recovers first: a dry run does only that, and looks.
            dry_run = ["once", "--dry-run", "-q", "--config", config]
            done = launcher(dry_run, workspace.root / "child.log", workspace.backups, None)
            assert done["exit"] in (0, 1), f"seed {seed}: recovery run {done}"
            check_files(files, seed)
            fixed = check_record(workspace, files, mode, seed)
            assert sorted(p.name for p in workspace.src.iterdir()) == sorted(p.name for p in files)
            assert names(intents_dir(workspace.backups)) == [], f"seed {seed}"
            parts = [name for name in names(workspace.backups) if name.endswith(".part")]
            assert parts == [], f"seed {seed}"
    finally:
        launcher.close()
    recovered = Counter(
        event["action"]
        for event in map(json.loads, (workspace.state / "mechanic.log").read_text().splitlines())
        if event["event"] == "recovery"
    )
    assert kills >= KILLS, f"seed {seed}: only {kills} kills landed"
    print(
        f"seed {seed}: {command}/{mode}: {kills} kills, {fixed} files fixed, each on the"
        f" record once; recovery: {dict(recovered)}"
    )
