"""`mechanic once` end to end on runtime errors and validation by tests, with the
Ollama stand-in answering the fix."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from mechanic.store import Store
from tests.repair.test_runtests import CALC, PYTEST, TEST_CALC, snapshot
from tests.support.model_user import UserConfig

WORKER_JS = """\
const fs = require('fs');

function readCorrections(input) {
  return String(input).trim();
}

function processData(input) {
  return readCorrectionFile(input);
}

console.log(processData(' x '));
module.exports = { processData };
"""
FIXED_JS = WORKER_JS.replace("return readCorrectionFile(input);", "return readCorrections(input);")
ERRORLOG = '\n[[errorlog]]\npath = "logs/*-error.log"\n'
# calc.scale crashes with NameError: factor. The meaning guard lets a fix add only
# the import of exactly that name (a model inventing a value is refused), so the
# tests decide between an import that works and one of a module that does not
# exist, which breaks the import of calc and with it test_add, passing before.
SETTINGS = "factor = 2\n"
CALC_GOOD = "from settings import factor\n" + CALC
CALC_BREAKS_IMPORT = "from scaling import factor\n" + CALC


@pytest.fixture
def user_config():
    """The stand-in, tailing logs/*-error.log; `user.configure(...)` sets the [[watch]] keys."""
    return UserConfig(keys="watch", raw=ERRORLOG, folders=("logs",))


def crash(user, command: list[str], name: str) -> None:
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=user.src, timeout=60, check=False
    )
    assert done.returncode != 0
    (user.root / "logs" / f"{name}-error.log").write_text(done.stderr)


def test_a_file_that_crashed_is_repaired_from_its_log(user):
    worker = user.file("worker.js", WORKER_JS)
    crash(user, ["node", str(worker)], "worker")
    user.ollama.reply(FIXED_JS)
    result = user.run("once", "--json")
    assert result.returncode == 0, result.stderr
    report = result.json
    [finding] = report["findings"]
    assert (finding["kind"], finding["line"], finding["column"]) == ("runtime", 8, 3)
    [error] = report["runtime_errors"]
    assert error["message"] == "ReferenceError: readCorrectionFile is not defined"
    assert error["function"] == "processData"
    assert result.attempts()["worker.js"]["outcome"] == "applied"
    assert worker.read_text() == FIXED_JS
    [request] = user.ollama.inference_requests
    assert "crashed at run time" in request.prompt_text
    assert "ReferenceError: readCorrectionFile is not defined (line 8, column 3)" in (
        request.prompt_text
    )
    ran = subprocess.run(["node", str(worker)], capture_output=True, text=True, check=False)
    assert ran.returncode == 0 and ran.stdout == "x\n"
    # The file changed: the error is addressed, nothing is left to do.
    again = user.run("once", "--json")
    assert again.returncode == 0
    assert again.json["findings"] == [] and again.json["runtime_errors"] == []
    assert "runtime.error" in (user.state / "mechanic.log").read_text()


def test_the_readable_report_shows_runtime_errors(user):
    worker = user.file("worker.js", WORKER_JS)
    crash(user, ["node", str(worker)], "worker")
    result = user.run("once", "--dry-run")
    assert result.returncode == 1
    assert "runtime   worker.js:8: ReferenceError: readCorrectionFile is not defined" in (
        result.stdout
    )
    assert "worker.js:8:3: ReferenceError" in result.stdout
    status = user.run("status", "--json")
    [error] = status.json["runtime_errors"]
    assert (error["line"], error["count"], error["function"]) == (8, 1, "processData")
    assert "readCorrectionFile is not defined" in user.run("status", env={"COLUMNS": "200"}).stdout


def calc_project(user) -> None:
    user.file("calc.py", CALC)
    user.file("settings.py", SETTINGS)
    user.file("tests/test_calc.py", TEST_CALC)
    crash(user, [sys.executable, "-c", "import calc; calc.scale([1])"], "calc")
    user.configure(test_cmd=PYTEST, test_timeout_seconds=60)


def test_test_cmd_rejects_a_fix_that_breaks_a_passing_test(user):
    calc_project(user)
    before = snapshot(user.src)
    user.ollama.reply(CALC_BREAKS_IMPORT)
    result = user.run("once", "--json")
    assert result.returncode == 1
    attempt = result.attempts()["calc.py"]
    assert attempt["outcome"] == "rejected"
    assert re.search(r"\d+ tests? that passed before fails? with the fix \(test_cmd\)",
                     attempt["reason"])  # fmt: skip
    assert snapshot(user.src) == before  # the real tree, untouched by the test runs
    with Store.open(user.state) as store:
        [recorded] = store.recent_attempts()
    assert (recorded.outcome, recorded.reason) == ("rejected", attempt["reason"])


def test_test_cmd_accepts_a_fix_that_keeps_the_tests_passing(user):
    calc_project(user)
    user.ollama.reply(CALC_GOOD)
    result = user.run("once", "--json")
    assert result.returncode == 0, result.stdout
    attempt = result.attempts()["calc.py"]
    assert attempt["outcome"] == "applied"
    assert "tests: 1 passed before, 2 with the fix" in attempt["reason"]
    assert (user.src / "calc.py").read_text() == CALC_GOOD


def test_a_file_that_does_not_parse_is_repaired_for_that_first(user):
    # node's SyntaxError in the log and the checker's verdict point at one file:
    # one finding, the checker's, which says exactly where the file stops parsing.
    worker = user.file("worker.js", WORKER_JS.replace("console.log(processData(' x '));", "("))
    crash(user, ["node", str(worker)], "worker")
    result = user.run("once", "--dry-run", "--json")
    [finding] = result.json["findings"]
    assert finding["kind"] == "syntax"
    [error] = result.json["runtime_errors"]
    assert error["message"].startswith("SyntaxError")


def test_check_lists_files_that_crashed(user):
    worker = user.file("worker.js", WORKER_JS)
    crash(user, ["node", str(worker)], "worker")
    result = user.run("check", "--json")
    assert result.returncode == 1
    [finding] = result.json
    assert (finding["kind"], finding["line"]) == ("runtime", 8)
    assert user.run("check").stdout.startswith(
        "worker.js:8:3: [javascript] ReferenceError: readCorrectionFile is not defined"
    )


def test_doctor_checks_error_logs_and_test_commands(user, tmp_path):
    from tests.daemon.test_service import service_env

    user.configure(test_cmd=["no-such-runner-xyz", "-q"], smoke_cmd=[sys.executable, "-V"])
    result = user.run("doctor", env=service_env(tmp_path))
    out = result.stdout
    assert result.returncode == 1
    assert "no file matches" in out and "logs/*-error.log" in out  # a note, not a problem
    assert "no-such-runner-xyz is not on PATH" in out
    assert "fix: install no-such-runner-xyz" in out
    (user.root / "logs" / "app-error.log").write_text("")
    out = user.run("doctor", env=service_env(tmp_path)).stdout
    assert "logs/*-error.log: 1 log" in out
