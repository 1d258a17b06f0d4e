"""Swaps a broken file for a FIFO, socket, device or folder at one step of a real
repair, in a process of its own, and prints what each step did as JSON.

Used by test_special_files.py: `python swap_driver.py STEP ROOT KIND...`. A read
that blocks on the swapped path hangs only this process (the test's timeout ends
it), and its address space is capped so that a read of /dev/zero fails fast
instead of eating the machine's memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import socket
import stat
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mechanic.config.load import load_config
from mechanic.detect.checkers import CheckerSet
from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.discovery import Finder, Guard
from mechanic.detect.scan import scan
from mechanic.repair.rungs.deterministic.rung import try_deterministic
from mechanic.repair.validate import ChosenFile, read_work
from mechanic.store import Store
from mechanic.write import journal, transaction
from mechanic.write.recovery import recover_interrupted
from mechanic.write.transaction import Refused, apply_fix, restore_backup
from mechanic.write.writer import Writer

BROKEN = b"def f(:\n    return 1\n"
FIXED = b"def f():\n    return 1\n"
KINDS = ("fifo", "socket", "device", "device-link", "folder")
_SOCKETS: list[socket.socket] = []


def swap(path: Path, what: str) -> None:
    """`rm path; mkfifo path` and its siblings: what a person or a process could do."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    if what == "fifo":
        os.mkfifo(path)
    elif what == "socket":
        server = socket.socket(socket.AF_UNIX)
        with contextlib.chdir(path.parent):  # AF_UNIX names are short (108 bytes)
            server.bind(path.name)
        server.listen()
        _SOCKETS.append(server)
    elif what == "device":  # /dev/zero's own numbers: reading it never ends
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))
    elif what == "device-link":  # a link to a device beside it (inside the watch root)
        device = path.with_name(f".{path.name}.zero")
        if not device.exists():
            os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 5))
        os.symlink(device.name, path)
    elif what == "folder":
        path.mkdir()
    else:
        raise ValueError(what)


def now(path: Path) -> str:
    """What the path is now (following a link, as a reader would)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"gone: {exc.strerror}"
    for test, name in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
    ):
        if test(mode):
            return name
    return "something else"


class SwappingChecker(PythonChecker):
    """Swaps the file right after the fix is written, before it is checked on disk."""

    def __init__(self, what: str | None = None) -> None:
        self.what = what

    def check_files(self, paths):
        if self.what is not None:
            for path in paths:
                swap(path, self.what)
        return super().check_files(paths)


def fix(target: Path, backups: Path, guard: Guard, **options) -> transaction.TxResult:
    options.setdefault("checker", PythonChecker())
    return apply_fix(
        target, original=BROKEN, fixed=FIXED, backup_dir=backups, guard=guard, **options
    )


def one(step: str, root: Path, what: str) -> dict:
    case = root / what
    src, backups, state = case / "src", case / "backups", case / "state"
    src.mkdir(parents=True)
    target = src / "app.py"
    target.write_bytes(BROKEN)
    guard = Guard([], [src])
    report: dict = {}

    if step == "scan":  # between the walk's stat and the scan's read

        class SwappingFinder(Finder):
            def _watched(self, *args):
                found = super()._watched(*args)
                if found is not None:
                    swap(found.real, what)
                return found

        with CheckerSet() as checkers, Store.open(state) as store:
            finder = SwappingFinder(_config(case, src, backups, state))
            result = scan(finder, checkers, store, max_file_bytes=1 << 20)
        report["reason"] = result.skipped.get(Path(os.path.realpath(src), "app.py"), "")
        report["findings"] = len(result.findings)
    elif step in ("read", "zero-token"):  # after the scan, before the repair reads it
        checker = PythonChecker()
        finding = checker.check_source(target, BROKEN)
        watched = next(Finder(_config(case, src, backups, state)).files())
        swap(target, what)
        if step == "read":
            report["reason"] = read_work(ChosenFile(watched, finding), checker, guard)
        else:
            with CheckerSet() as checkers:
                found = try_deterministic(target, finding, checkers, writer=Writer(backups, guard))
            report["reason"] = "nothing attempted" if found is None else found.reason
    elif step == "validation":  # the tests run in a copy while the file is swapped
        result = fix(target, backups, guard, validate=lambda _fixed: swap(target, what))
        report.update(outcome=result.outcome, reason=result.reason)
    elif step in ("backup", "intent"):  # once the backup is written / the intent recorded
        real = transaction.write_backup if step == "backup" else journal.begin

        def then_swap(*args, **kwargs):
            done = real(*args, **kwargs)
            swap(target, what)
            return done

        if step == "backup":
            transaction.write_backup = then_swap
        else:
            journal.begin = then_swap
        result = fix(target, backups, guard)
        report.update(outcome=result.outcome, reason=result.reason)
    elif step == "check-on-disk":  # after the rename, before the on-disk check
        result = fix(target, backups, guard, checker=SwappingChecker(what))
        report.update(outcome=result.outcome, reason=result.reason)
    elif step in ("revert", "revert-backup"):  # `mechanic revert` of an applied fix
        result = fix(target, backups, guard)
        assert result.outcome == "applied", result
        swapped = target if step == "revert" else result.backup_path
        swap(swapped, what)
        try:
            restore_backup(
                target,
                backup=result.backup_path,
                expected=FIXED,
                guard=guard,
                backup_dir=backups,
                original_sha=transaction.sha256(BROKEN),
            )
            report["reason"] = "restored"
        except Refused as exc:
            report["reason"] = str(exc)
        report["swapped_is_now"] = now(swapped)
    elif step == "recovery":  # killed after the intent; swapped before the next cycle
        pid = os.fork()
        if pid == 0:
            real = journal.begin

            def killed(*args, **kwargs):
                real(*args, **kwargs)
                os._exit(9)

            journal.begin = killed
            fix(target, backups, guard)
            os._exit(0)
        os.waitpid(pid, 0)
        swap(target, what)
        found = recover_interrupted(backups, lambda _language: PythonChecker())
        report["reason"] = "; ".join(f"{r.action}: {r.reason}" for r in found)
    else:
        raise ValueError(step)
    report["now"] = now(target)
    return report


def _config(case: Path, src: Path, backups: Path, state: Path):
    config = case / "config.toml"
    config.write_text(
        f'[mechanic]\nstate_dir = "{state}"\nbackup_dir = "{backups}"\n'
        f'[llm]\nbackend = "none"\n[[watch]]\npath = "{src}"\n'
    )
    return load_config(config)


def main() -> None:
    step, root, kinds = sys.argv[1], Path(sys.argv[2]), sys.argv[3:] or list(KINDS)
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    results = {}
    for what in kinds:
        try:
            results[what] = one(step, root, what)
        except Exception as exc:  # the test shows which case broke, and how
            results[what] = {"crashed": f"{type(exc).__name__}: {exc}"}
        print(json.dumps({what: results[what]}), flush=True)


if __name__ == "__main__":
    main()
