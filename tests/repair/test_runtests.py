"""Validation by tests: real pytest and node --test runs in a throwaway copy."""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

import pytest

from mechanic.config.settings import WatchRoot
from mechanic.detect.checkers.javascript import JavaScriptChecker
from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.discovery import Guard
from mechanic.repair.runtests import FixValidator, copy_tree, parse_results, run_command
from mechanic.write.transaction import apply_fix

PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]

CALC = """\
def add(a, b):
    return a + b


def scale(values):
    return [v * factor for v in values]
"""
CALC_GOOD = CALC.replace("def scale(values):", "def scale(values, factor=2):")
CALC_BREAKS_ADD = CALC.replace("return a + b", "return a - b").replace(
    "def scale(values):", "def scale(values, factor=2):"
)
TEST_CALC = """\
from calc import add, scale


def test_add():
    assert add(2, 3) == 5


def test_scale():
    assert scale([1, 2]) == [2, 4]
"""


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every file under root with its content hash and mtime."""
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            found[str(path.relative_to(root))] = (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                path.stat().st_mtime_ns,
            )
    return found


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "project"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def fix(root: Path, rel: str, fixed: str, checker, tmp_path: Path, **watch):
    target = (root / rel).resolve()
    validator = FixValidator(WatchRoot(root, ("**/*",), (), **watch), target)
    result = apply_fix(
        target,
        original=target.read_bytes(),
        fixed=fixed.encode(),
        checker=checker,
        backup_dir=tmp_path / "backups",
        guard=Guard([], [root]),
        validate=validator,
    )
    return result, validator


def test_a_fix_that_breaks_a_passing_pytest_test_is_rejected_and_nothing_written(tmp_path):
    root = project(tmp_path, {"calc.py": CALC, "tests/test_calc.py": TEST_CALC})
    before = snapshot(root)
    result, _ = fix(root, "calc.py", CALC_BREAKS_ADD, PythonChecker(), tmp_path, test_cmd=PYTEST)
    assert result.outcome == "rejected"
    assert "1 test that passed before fails with the fix" in result.reason
    assert "test_add" in result.reason
    assert snapshot(root) == before  # not a byte, not an mtime, no cache folder
    assert not (tmp_path / "backups").exists()


def test_a_fix_that_keeps_the_passing_tests_is_applied(tmp_path):
    root = project(tmp_path, {"calc.py": CALC, "tests/test_calc.py": TEST_CALC})
    result, validator = fix(root, "calc.py", CALC_GOOD, PythonChecker(), tmp_path, test_cmd=PYTEST)
    assert result.outcome == "applied", result.reason
    assert (root / "calc.py").read_text() == CALC_GOOD
    assert validator.summary == "tests: 1 passed before, 2 with the fix"


TOOL_JS = """\
function add(a, b) {
  return a + b;
}
function greet(name) {
  return prefix + name;
}
module.exports = { add, greet };
"""
TEST_JS = """\
const test = require('node:test');
const assert = require('node:assert');
const { add, greet } = require('../tool.js');
test('add', () => assert.equal(add(2, 3), 5));
test('greet', async (t) => {
  await t.test('says hello', () => assert.equal(greet('x'), 'hello x'));
});
"""
NODE_TEST = ["node", "--test", "test/"]


def test_node_test_results_are_compared_test_by_test(tmp_path):
    root = project(tmp_path, {"tool.js": TOOL_JS, "test/tool.test.js": TEST_JS})
    before = snapshot(root)
    bad = TOOL_JS.replace("a + b", "a * b").replace(
        "function greet(name) {", "const prefix = 'hello ';\nfunction greet(name) {"
    )
    with JavaScriptChecker() as checker:
        result, _ = fix(root, "tool.js", bad, checker, tmp_path, test_cmd=NODE_TEST)
        assert result.outcome == "rejected"
        assert "add" in result.reason
        assert snapshot(root) == before
        good = TOOL_JS.replace(
            "function greet(name) {", "const prefix = 'hello ';\nfunction greet(name) {"
        )
        result, validator = fix(root, "tool.js", good, checker, tmp_path, test_cmd=NODE_TEST)
    assert result.outcome == "applied", result.reason
    assert "passed before" in validator.summary


def test_a_smoke_command_that_passed_must_still_pass(tmp_path):
    root = project(tmp_path, {"app.py": "print('up')\n"})
    smoke = [sys.executable, "app.py"]
    result, _ = fix(
        root, "app.py", "import sys\nsys.exit(3)\n", PythonChecker(), tmp_path, smoke_cmd=smoke
    )
    assert result.outcome == "rejected"
    assert "smoke_cmd passed before and fails with the fix (exit 3)" in result.reason
    assert (root / "app.py").read_text() == "print('up')\n"


def test_a_test_command_that_hangs_with_the_fix_is_killed_at_its_timeout(tmp_path):
    hang = "import time, os\nif os.path.exists('hang'):\n    time.sleep(120)\n"
    root = project(tmp_path, {"app.py": "x = 1\n", "check.py": hang})
    started = time.monotonic()
    result, _ = fix(
        root,
        "app.py",
        "x = 2\nopen('hang', 'w').close()\n",
        PythonChecker(),
        tmp_path,
        test_cmd=[sys.executable, "-c", "import app, runpy; runpy.run_path('check.py')"],
        test_timeout_seconds=2,
    )
    assert time.monotonic() - started < 30
    assert result.outcome == "rejected"
    assert "timed out (2s) with the fix" in result.reason
    assert not (root / "hang").exists()


def _dead(pid: int) -> bool:
    """True once `pid` is gone or a zombie waiting for its reaper."""
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and ") Z" in stat.read_text():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(("leader_sleeps", "timed_out"), [(300, True), (0, False)])
def test_the_whole_process_group_is_killed(tmp_path, leader_sleeps, timed_out):
    """At the timeout, and also when the command exits leaving a child running."""
    pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        f"time.sleep({leader_sleeps})\n"
    )
    started = time.monotonic()
    result = run_command(
        "tests",
        (sys.executable, "-c", script),
        tmp_path,
        timeout=3,
        memory_mb=1024,
        env=dict(os.environ),
        scratch=tmp_path,
    )
    assert result.timed_out is timed_out
    assert result.returncode == (None if timed_out else 0)
    assert time.monotonic() - started < 20
    assert _dead(int(pid_file.read_text())), "a process of the test command survived"


def test_resource_limits_apply_to_the_test_command(tmp_path):
    result = run_command(
        "tests",
        (sys.executable, "-c", "x = bytearray(600 * 1024 * 1024)"),
        tmp_path,
        timeout=30,
        memory_mb=256,
        env=dict(os.environ),
        scratch=tmp_path,
    )
    assert result.returncode != 0
    assert "MemoryError" in result.output_tail


def test_a_missing_test_command_refuses_the_fix(tmp_path):
    root = project(tmp_path, {"app.py": "x = 1\n"})
    result, _ = fix(
        root, "app.py", "x = 2\n", PythonChecker(), tmp_path, test_cmd=["no-such-test-runner-xyz"]
    )
    assert result.outcome == "rejected"
    assert "test_cmd could not run: no-such-test-runner-xyz: not found" in result.reason


def test_the_copy_skips_caches_and_links_dependencies(tmp_path):
    root = project(
        tmp_path,
        {
            "app.js": "1;\n",
            ".git/HEAD": "ref\n",
            "node_modules/dep/index.js": "module.exports = 1;\n",
            "pkg/__pycache__/x.pyc": "",
            "state/mechanic.sqlite3": "",
        },
    )
    copy = tmp_path / "copy"
    copy_tree(root, copy, skip=[root / "state"])
    assert (copy / "app.js").read_text() == "1;\n"
    assert not (copy / ".git").exists()
    assert not (copy / "pkg" / "__pycache__").exists()
    assert not (copy / "state").exists()
    assert (copy / "node_modules").is_symlink()


def test_results_are_read_from_pytest_lines_and_tap():
    output = """\
PASSED tests/test_a.py::test_one
FAILED tests/test_a.py::test_two - assert 1 == 2
tests/test_b.py::test_three PASSED
TAP version 13
# Subtest: group
    # Subtest: inner
    ok 1 - inner
    # Subtest: skipped one
    ok 2 - skipped one # SKIP
not ok 1 - group
"""
    assert parse_results(output) == {
        "tests/test_a.py::test_one": "passed",
        "tests/test_a.py::test_two": "failed",
        "tests/test_b.py::test_three": "passed",
        "group > inner": "passed",
        "group > skipped one": "skipped",
        "group": "failed",
    }
