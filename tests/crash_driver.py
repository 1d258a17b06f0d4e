"""Runs the real transaction over and over on real files until it is killed.

Used by test_crash.py: `python crash_driver.py ROOT BACKUPS SEED`. Each file
under ROOT starts as ORIGINAL (broken) and is fixed to version 1, 2, 3...
Every other step first tries a version that passes in memory but fails on
disk (FlakyOnDisk), so the transaction's revert path is killed too. It prints
one line per finished repair.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mechanic.checkers.base import Finding
from mechanic.checkers.python import PythonChecker
from mechanic.discovery import Guard
from mechanic.transaction import apply_fix

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


def main() -> None:
    root, backups, seed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    files = sorted(root.glob("*.py"))
    guard = Guard([], [root])
    checker = FlakyOnDisk()
    print("ready", flush=True)
    while True:
        target = rng.choice(files)
        current = target.read_bytes()
        step = version_of(current) + 1
        for fixed in (bad(step), good(step)) if rng.random() < 0.5 else (good(step),):
            result = apply_fix(
                target,
                original=current,
                fixed=fixed,
                checker=checker,
                backup_dir=backups,
                guard=guard,
            )
            print(result.outcome, flush=True)


if __name__ == "__main__":
    main()
