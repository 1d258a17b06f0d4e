"""Processes for test_crash.py to kill.

`python crash_driver.py transaction ROOT BACKUPS STATE SEED` runs the real
transaction over and over on real files until it is killed, recording each
attempt in a real store the way a cycle does (the row, then `settle`). Each
file under ROOT starts as ORIGINAL (broken) and is fixed to version 1, 2, 3...
Every other step first tries a version that passes in memory but fails on
disk (FlakyOnDisk), so the transaction's revert path is killed too. It prints
one line per finished repair.

`python crash_driver.py commands` is a launcher for the real commands: it
imports mechanic once, then for each JSON request on stdin forks a child that
runs `mechanic ARGV...` (the same `cli.main` the `mechanic` executable runs),
kills it with SIGKILL as the request's plan says (`kill_per_plan`), and answers
one JSON line. Forking from a warm interpreter is what lets a test afford
hundreds of kills; test_crash.py also kills a few `python -m mechanic`
processes started from scratch with the same plans.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mechanic.detect.checkers.base import Finding
from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.discovery import Guard

ORIGINAL = b"def f(:\n    return 0\n"
MARK = b"# fails on disk\n"


def good(version: int) -> bytes:
    return b"# version %d\ndef f():\n    return %d\n" % (version, version) + b"x = 1\n" * version


def bad(version: int) -> bytes:
    return good(version) + MARK


def version_of(data: bytes) -> int:
    found = re.match(rb"# version (\d+)\n", data)
    return int(found.group(1)) if found else 0


class FlakyOnDisk(PythonChecker):
    """Accepts a marked version in memory and refuses it on disk, as when a
    file lands differently than it was validated."""

    def check_files(self, paths):
        out = {}
        for path in paths:
            data = path.read_bytes()
            out[path] = (
                Finding(path, "python", 1, 1, "fails on disk") if MARK in data else None
            ) or self.check_source(path, data)
        return out


# --- the files the real commands repair ----------------------------------------


def broken_module(n: int) -> bytes:
    """A small module whose function f_<n> lacks a closing paren. Each n reads
    differently, so no remembered fix of another file applies to it."""
    return (
        f"import os\n\nLIMIT_{n} = {n}\n\n\ndef f_{n}(x):\n    return (x + LIMIT_{n}\n\n\n"
        f"def g_{n}():\n    return f_{n}(len(os.sep))\n"
    ).encode()


def fixed_module(n: int) -> bytes:
    return broken_module(n).replace(b"LIMIT_%d\n\n" % n, b"LIMIT_%d)\n\n" % n, 1)


def model_answer(prompt: str, mode: str) -> str:
    """What a good model answers: the whole fixed file, or (block) the fixed function.
    The file is known by its name (the fixes shown as examples have none)."""
    n = int(re.search(r"mod_(\d+)\.py", prompt).group(1))
    if mode == "whole":
        return fixed_module(n).decode()
    return f"def f_{n}(x):\n    return (x + LIMIT_{n})"


# --- killing a process at a chosen instant -------------------------------------


def _entries(folder: Path) -> int:
    try:
        return len(os.listdir(folder))
    except OSError:
        return 0


def kill_per_plan(pid: int, plan: dict, watched: Path, exited) -> bool:
    """SIGKILL `pid` as `plan` says; returns whether it was still running then.

    plan["after"] is "start" (kill plan["delay"] s after it started) or "write"
    (kill plan["delay"] s after the `plan["nth"]`-th new entry in `watched`, the
    backup folder: a write is under way, and the instants around the rename and
    the attempt row are where a kill can lose a record). `exited()` says whether
    the process has ended, so a process that finished first is not waited on
    past plan["timeout"]."""
    deadline = time.monotonic() + plan["timeout"]
    if plan["after"] == "write":
        seen, wanted = _entries(watched), plan.get("nth", 1)
        while time.monotonic() < deadline and not exited():
            now = _entries(watched)
            if now > seen:
                wanted -= now - seen
                seen = now
                if wanted <= 0:
                    break
            time.sleep(0.0002)
    pause_until = time.monotonic() + plan["delay"]
    while time.monotonic() < pause_until and not exited():
        time.sleep(0.0002)
    if exited():
        return False
    os.kill(pid, signal.SIGKILL)
    return True


def _child(argv: list[str], log: str) -> None:
    """In the forked child: run the command, never return into the launcher."""
    code = 70
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        from mechanic.cli import main as cli

        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def commands() -> None:
    # Warm: everything a cycle and the daemon import, loaded before any fork.
    from mechanic.daemon import main as daemon  # noqa: F401
    from mechanic.repair.backends import ollama  # noqa: F401

    print("ready", flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(request["argv"], request["log"])
        status: list[int] = []

        def exited(pid=pid, status=status) -> bool:
            if not status:
                done, code = os.waitpid(pid, os.WNOHANG)
                if done:
                    status.append(code)
            return bool(status)

        plan = request.get("plan")
        killed = kill_per_plan(pid, plan, Path(request["watched"]), exited) if plan else False
        if not status:
            status.append(os.waitpid(pid, 0)[1])
        code = os.waitstatus_to_exitcode(status[0])
        answer = {"killed": killed and code == -signal.SIGKILL, "exit": code}
        answer["seconds"] = round(time.monotonic() - started, 4)
        print(json.dumps(answer), flush=True)


# --- the transaction alone ------------------------------------------------------


def transaction() -> None:
    from mechanic.store import AttemptRecord, Store
    from mechanic.write.transaction import apply_fix, settle, sha256

    root, backups, state = Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    rng = random.Random(int(sys.argv[5]))
    files = sorted(root.glob("*.py"))
    guard = Guard([], [root])
    checker = FlakyOnDisk()
    store = Store.open(state)
    print("ready", flush=True)
    while True:
        target = rng.choice(files)
        current = target.read_bytes()
        step = version_of(current) + 1
        for fixed in (bad(step), good(step)) if rng.random() < 0.5 else (good(step),):
            record = AttemptRecord(str(target), "python", "driver", "skipped", rung="whole")
            result = apply_fix(
                target,
                original=current,
                fixed=fixed,
                checker=checker,
                backup_dir=backups,
                guard=guard,
                attempt=record.to_dict(),
            )
            record.outcome, record.reason, record.intent = (
                result.outcome,
                result.reason,
                result.intent,
            )
            record.old_sha, record.new_sha = sha256(current), result.new_sha
            record.backup_path = str(result.backup_path) if result.backup_path else None
            store.record_attempt(record)  # as a cycle records it: the row, then settle
            settle(backups, record.intent)
            print(result.outcome, flush=True)


if __name__ == "__main__":
    {"transaction": transaction, "commands": commands}[sys.argv[1]]()
