"""Validation by tests: a fix is applied only if the root's tests are no worse with it.

A watch root may set `test_cmd` and `smoke_cmd` (argv lists; a string is split
with shlex, and no shell ever runs). For each candidate fix, mechanic copies the
root into a temporary folder, runs the commands there on the unfixed copy (the
baseline), copies again, writes the fix into the copy and runs them again. The
fix passes when every test that passed before still passes (per-test results
from pytest's junit XML or `-rA`/`-v` lines, or node --test's TAP), or, where no
per-test results can be read, when a command that exited 0 before still does.

Why a copy and not `git worktree add`: a worktree holds HEAD, not the files as
they are on disk (uncommitted edits would be missing from the test), and it
writes into the repository's .git. The copy skips version-control and cache
folders and links dependency folders (node_modules, .venv, venv) instead of
copying them; PYTHONPATH puts the copy first so an editable install of the
project cannot make the tests import the real tree. Nothing in the real tree is
written while tests run.

Each command runs in its own process group under resource limits (CPU seconds,
address space, file size, no core files); at its timeout the whole group is
killed, and so is anything it left running when it exits.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from mechanic.config.settings import WatchRoot
from mechanic.files.userfile import copy_regular
from mechanic.plural import plural

log = structlog.get_logger("mechanic.validation")

SKIP_DIRS = frozenset(
    {".git", ".hg", ".svn", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
    | {".tox", ".nox"}
)
LINK_DIRS = frozenset({"node_modules", ".venv", "venv"})
MAX_COPY_BYTES = 512 << 20
MAX_OUTPUT_BYTES = 64 << 20  # RLIMIT_FSIZE: also bounds what a test may write per file
OUTPUT_TAIL_CHARS = 2000


class CannotCopy(Exception):
    """The root cannot be copied for a test run (too large, unreadable)."""


# --- running one command -----------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    name: str  # "smoke" | "tests"
    returncode: int | None  # None when it timed out or could not start
    timed_out: bool
    tests: dict[str, str]  # test id -> "passed" | "failed" | "skipped"
    output_tail: str
    seconds: float
    error: str | None = None  # could not start


def _limit(kind: int, wanted: int) -> tuple[int, int]:
    _, hard = resource.getrlimit(kind)
    value = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    return value, value


# Limits are set by a tiny Python step that then execs the command (same pid, so
# the same process group), not by preexec_fn: `mechanic run` has threads, and
# Python code between fork and exec in a threaded process can deadlock.
_TRAMPOLINE = (
    "import os, resource, sys\n"
    "for kind, soft, hard in zip(*[iter(map(int, sys.argv[1].split(',')))] * 3):\n"
    "    resource.setrlimit(kind, (soft, hard))\n"
    "try:\n"
    "    os.execvp(sys.argv[2], sys.argv[2:])\n"
    "except OSError as exc:\n"
    "    sys.stderr.write(f'mechanic: cannot run {sys.argv[2]}: {exc}\\n')\n"
    "    os._exit(127)\n"
)


def _limits(cpu_seconds: int, memory_bytes: int) -> str:
    limits = [
        (resource.RLIMIT_CPU, _limit(resource.RLIMIT_CPU, cpu_seconds)),
        (resource.RLIMIT_AS, _limit(resource.RLIMIT_AS, memory_bytes)),
        (resource.RLIMIT_FSIZE, _limit(resource.RLIMIT_FSIZE, MAX_OUTPUT_BYTES)),
        (resource.RLIMIT_CORE, (0, 0)),
    ]
    return ",".join(f"{kind},{soft},{hard}" for kind, (soft, hard) in limits)


def _wait_unreaped(pid: int, timeout: float, stop: threading.Event | None = None) -> bool:
    """Wait up to `timeout` for `pid` to exit, leaving it a zombie (WNOWAIT).
    True when it exited."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
            return False  # a stopping daemon ends the test run now, not at its timeout
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.2)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run_command(
    name: str,
    args: tuple[str, ...],
    cwd: Path,
    *,
    timeout: float,
    memory_mb: int,
    env: dict[str, str],
    scratch: Path,
    stop: threading.Event | None = None,
) -> RunResult:
    """Run `args` in `cwd` with limits; kill its process group at `timeout`, or
    as soon as `stop` (the daemon's stop request) is set."""
    args, junit = _with_junit(args, scratch / f"{name}-junit.xml")
    output = scratch / f"{name}.out"
    started = time.monotonic()
    with open(output, "wb") as sink:
        limits = _limits(int(timeout) + 5, memory_mb << 20)
        if shutil.which(args[0], path=env.get("PATH")) is None and not (cwd / args[0]).exists():
            return RunResult(name, None, False, {}, "", 0.0, error=f"{args[0]}: not found")
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _TRAMPOLINE, limits, *args],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        except OSError as exc:
            return RunResult(name, None, False, {}, "", 0.0, error=f"cannot run {args[0]}: {exc}")
        timed_out = not _wait_unreaped(process.pid, timeout, stop)
        # The leader is dead or still running but not yet reaped, so its pid (the
        # group's id) cannot have been reused: killing the group is safe.
        _kill_group(process.pid)  # at the timeout, or whatever it left running
        process.wait()
    text = output.read_bytes()[-(4 << 20) :].decode("utf-8", "replace")
    tests = _junit_results(junit) if junit else {}
    if not tests:
        tests = parse_results(text)
    return RunResult(
        name,
        None if timed_out else process.returncode,
        timed_out,
        tests,
        text[-OUTPUT_TAIL_CHARS:],
        round(time.monotonic() - started, 3),
    )


def _is_pytest(args: tuple[str, ...]) -> bool:
    names = [Path(a).name for a in args[:3]]
    return any(n in ("pytest", "py.test") for n in names) or (
        "-m" in args[:3] and "pytest" in args[:4]
    )


def _with_junit(args: tuple[str, ...], path: Path) -> tuple[tuple[str, ...], Path | None]:
    """pytest reports per-test results in junit XML; ask for it if the user did not."""
    if not _is_pytest(args) or any(a.startswith("--junit") for a in args):
        return args, None
    return (*args, f"--junitxml={path}"), path


def _junit_results(path: Path) -> dict[str, str]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return {}
    results: dict[str, str] = {}
    for case in root.iter("testcase"):
        test = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            results[test] = "failed"
        elif case.find("skipped") is not None:
            results[test] = "skipped"
        else:
            results[test] = "passed"
    return results


_STATUS = {
    "PASSED": "passed",
    "XPASS": "passed",
    "FAILED": "failed",
    "ERROR": "failed",
    "SKIPPED": "skipped",
    "XFAIL": "skipped",
}
_PYTEST_SUMMARY = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)")
_PYTEST_VERBOSE = re.compile(r"^(\S+::\S+) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")
_TAP = re.compile(
    r"^(?P<indent>\s*)(?P<not>not )?ok \d+(?: - (?P<name>.*?))?"
    r"(?P<directive>\s+#\s*(?:SKIP|TODO)\b.*)?$",
    re.IGNORECASE,
)
_TAP_SUBTEST = re.compile(r"^(?P<indent>\s*)# Subtest: (?P<name>.*)$")


def parse_results(output: str) -> dict[str, str]:
    """Per-test results from pytest's -rA / -v lines or TAP (node --test)."""
    results: dict[str, str] = {}
    parents: dict[int, str] = {}
    for line in output.splitlines():
        match = _PYTEST_SUMMARY.match(line)
        if match:
            results[match.group(2)] = _STATUS[match.group(1)]
            continue
        match = _PYTEST_VERBOSE.match(line)
        if match:
            results[match.group(1)] = _STATUS[match.group(2)]
            continue
        match = _TAP_SUBTEST.match(line)
        if match:
            depth = len(match.group("indent"))
            parents = {d: n for d, n in parents.items() if d < depth}
            parents[depth] = match.group("name")
            continue
        match = _TAP.match(line)
        if match:
            depth = len(match.group("indent"))
            path = [n for d, n in sorted(parents.items()) if d < depth]
            test = " > ".join([*path, (match.group("name") or "").strip()])
            if match.group("directive"):
                results[test] = "skipped"
            else:
                results[test] = "failed" if match.group("not") else "passed"
    return results


# --- the throwaway copy ------------------------------------------------------


def copy_tree(source: Path, target: Path, *, skip: Iterable[Path] = ()) -> int:
    """Copy `source` to `target` for a test run; returns the bytes copied."""
    skipped = {Path(os.path.realpath(p)) for p in skip}
    total = 0

    def walk(folder: Path, into: Path) -> None:
        nonlocal total
        into.mkdir()
        with os.scandir(folder) as entries:
            for entry in entries:
                destination = into / entry.name
                if entry.is_symlink():
                    os.symlink(os.readlink(entry.path), destination)
                elif entry.is_dir():
                    if entry.name in SKIP_DIRS or Path(entry.path) in skipped:
                        continue
                    if entry.name in LINK_DIRS:
                        os.symlink(entry.path, destination)
                    else:
                        walk(Path(entry.path), destination)
                elif entry.is_file():
                    total += entry.stat().st_size
                    if total > MAX_COPY_BYTES:
                        raise CannotCopy(
                            f"the watch root holds more than {MAX_COPY_BYTES >> 20} MiB"
                            " outside dependency folders; too large to copy for tests"
                        )
                    copy_regular(entry.path, destination)

    try:
        walk(Path(os.path.realpath(source)), target)
    except OSError as exc:
        raise CannotCopy(f"cannot copy the watch root for tests: {exc}") from exc
    return total


# --- the validator -----------------------------------------------------------


@dataclass
class FixValidator:
    """Validates fixed bytes for one file by the root's smoke and test commands.

    Called as `validate(fixed) -> problem | None` by transaction.apply_fix; after
    a pass, `summary` says what ran.
    """

    watch: WatchRoot
    target: Path  # the file being fixed, symlinks resolved, inside the root
    skip: tuple[Path, ...] = ()  # folders never copied (mechanic's state and backups)
    summary: str = ""
    runs: list[RunResult] = field(default_factory=list)
    stop: threading.Event | None = None  # the daemon's stop request ends a run at once

    def commands(self) -> list[tuple[str, tuple[str, ...]]]:
        found = [("smoke", self.watch.smoke_cmd), ("tests", self.watch.test_cmd)]
        return [(name, args) for name, args in found if args]

    def __call__(self, fixed: bytes) -> str | None:
        root = Path(os.path.realpath(self.watch.path))
        rel = self.target.relative_to(root)
        with tempfile.TemporaryDirectory(prefix="mechanic-validate-") as scratch_name:
            scratch = Path(scratch_name)
            tree = scratch / "tree"
            try:
                copy_tree(root, tree, skip=self.skip)
                before = self._run_all(root, tree, scratch / "before")
                shutil.rmtree(tree)
                copy_tree(root, tree, skip=self.skip)
            except CannotCopy as exc:
                return str(exc)
            (tree / rel).write_bytes(fixed)
            after = self._run_all(root, tree, scratch / "after")
            self.runs = before + after
            return self._judge(before, after)

    def _run_all(self, root: Path, tree: Path, scratch: Path) -> list[RunResult]:
        scratch.mkdir()
        env = _environment(tree)
        results = []
        for name, args in self.commands():
            # A command that names the real root by its absolute path would test
            # the real files; point it at the copy.
            args = tuple(a.replace(str(root), str(tree)) for a in args)
            result = run_command(
                name,
                args,
                tree,
                timeout=self.watch.test_timeout_seconds,
                memory_mb=self.watch.test_memory_mb,
                env=env,
                scratch=scratch,
                stop=self.stop,
            )
            log.info(
                "validation.run",
                file=str(self.target),
                command=name,
                phase=scratch.name,
                exit=result.returncode,
                timed_out=result.timed_out or None,
                tests=len(result.tests) or None,
                seconds=result.seconds,
            )
            results.append(result)
        return results

    def _judge(self, before: list[RunResult], after: list[RunResult]) -> str | None:
        notes = []
        for old, new in zip(before, after, strict=True):
            cmd = f"{old.name}_cmd" if old.name == "smoke" else "test_cmd"
            if old.error or new.error:
                return f"{cmd} could not run: {old.error or new.error}"
            limit = f"{self.watch.test_timeout_seconds:g}s"
            if old.timed_out:
                return (
                    f"{cmd} timed out ({limit}) even without the fix: cannot tell"
                    " whether the fix is safe, so it is not applied"
                )
            if new.timed_out:
                return f"{cmd} timed out ({limit}) with the fix, not without it"
            if old.tests and new.tests:
                passed = [t for t, s in old.tests.items() if s == "passed"]
                broken = [t for t in passed if new.tests.get(t) != "passed"]
                if broken:
                    shown = ", ".join(broken[:5]) + (" ..." if len(broken) > 5 else "")
                    return (
                        f"{plural(len(broken), 'test')} that passed before"
                        f" {'fails' if len(broken) == 1 else 'fail'} with the fix"
                        f" ({cmd}): {shown}"
                    )
                now = sum(s == "passed" for s in new.tests.values())
                notes.append(f"{old.name}: {len(passed)} passed before, {now} with the fix")
            if old.returncode == 0 and new.returncode != 0:
                tail = (new.output_tail.strip().splitlines() or [""])[-1]
                return f"{cmd} passed before and fails with the fix (exit {new.returncode}): {tail}"
            if not (old.tests and new.tests):
                notes.append(
                    f"{old.name}: exit {old.returncode} before, {new.returncode} with the fix"
                )
        self.summary = "; ".join(notes)
        return None


def _environment(tree: Path) -> dict[str, str]:
    env = dict(os.environ)
    first = [str(tree)] + ([str(tree / "src")] if (tree / "src").is_dir() else [])
    rest = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join(first + ([rest] if rest else []))
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # never write into linked .venv / node_modules
    env["MECHANIC_VALIDATION"] = "1"
    return env


def validator_for(
    watches: Iterable[WatchRoot],
    root: Path,
    target: Path,
    *,
    skip: tuple[Path, ...] = (),
    stop: threading.Event | None = None,
) -> FixValidator | None:
    """The validator for a file under `root` (resolved), or None when its watch
    root sets neither test_cmd nor smoke_cmd."""
    for watch in watches:
        if Path(os.path.realpath(watch.path)) == root and (watch.test_cmd or watch.smoke_cmd):
            return FixValidator(watch, target, skip, stop=stop)
    return None
