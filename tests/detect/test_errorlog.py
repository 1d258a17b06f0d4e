"""Runtime errors from logs: real python and node processes crash, their stderr
goes to a log the way PM2 writes it, and mechanic turns that into findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mechanic.config.load import load_config
from mechanic.detect.discovery import Finder
from mechanic.detect.errorlog import collect
from mechanic.detect.tracebacks import clean_lines, parse
from mechanic.store import Store

WORKER_JS = """\
const fs = require('fs');

function processData(input) {
  return readCorrectionFile(input);
}

processData('x');
"""

CALC_PY = """\
def total(items):
    return sum(items) + bonus


def main():
    print(total([1, 2]))


main()
"""


@pytest.fixture
def space(workspace):
    """A workspace whose config tails logs/*-error.log."""
    workspace.logs = workspace.root / "logs"
    workspace.logs.mkdir()
    workspace.write_config(raw='\n[[errorlog]]\npath = "logs/*-error.log"\n')
    return workspace


def crash(command: list[str], log: Path, *, prefix: str = "") -> str:
    """Run a real process that crashes; append its stderr to `log` as PM2 would
    (an optional timestamp prefix only on the first line of the chunk)."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0, done.stdout
    with open(log, "a") as handle:
        handle.write(prefix + done.stderr)
    return done.stderr


def step(space, now: float | None = None):
    config = load_config(space.config_path)
    finder = Finder(config)
    with Store.open(config.mechanic.state_dir) as store:
        return collect(config, store, finder, now=now)


def runtime_rows(space):
    with Store.open(space.state) as store:
        return store.runtime_errors(active_only=False)


def test_a_node_reference_error_becomes_a_finding_at_its_line(space):
    worker = space.file("worker.js", WORKER_JS)
    stderr = crash(["node", str(worker)], space.logs / "worker-error.log")
    assert "ReferenceError" in stderr
    result = step(space)
    finding = result.findings[worker.resolve()]
    assert finding.kind == "runtime"
    assert finding.language == "javascript"
    assert (finding.line, finding.column) == (4, 3)
    assert finding.message == "ReferenceError: readCorrectionFile is not defined"
    [error] = result.errors
    assert error.function == "processData"
    assert error.log_path == str(space.logs / "worker-error.log")


def test_a_python_traceback_points_at_the_innermost_watched_frame(space):
    calc = space.file("calc.py", CALC_PY)
    crash([sys.executable, str(calc)], space.logs / "calc-error.log")
    finding = step(space).findings[calc.resolve()]
    assert (finding.line, finding.kind, finding.language) == (2, "runtime", "python")
    assert finding.message == "NameError: name 'bonus' is not defined"


def test_a_crash_inside_a_library_points_at_the_callers_line(space, tmp_path):
    library = tmp_path / "site" / "lib.py"
    library.parent.mkdir()
    library.write_text("def double(x):\n    return x.upper() * 2\n")
    app = space.file("app.py", "import lib\n\n\nlib.double(3)\n")
    env = {**os.environ, "PYTHONPATH": str(library.parent)}
    done = subprocess.run(
        [sys.executable, str(app)], capture_output=True, text=True, env=env, check=False
    )
    (space.logs / "app-error.log").write_text(done.stderr)
    finding = step(space).findings[app.resolve()]
    assert finding.line == 4
    assert finding.message.startswith("AttributeError: 'int' object has no attribute 'upper'")


def test_a_traceback_only_through_unwatched_files_is_ignored(space, tmp_path):
    outside = tmp_path / "elsewhere.py"
    outside.write_text("def f():\n    return missing\n\nf()\n")
    space.file("calc.py", "print('fine')\n")
    crash([sys.executable, str(outside)], space.logs / "other-error.log")
    result = step(space)
    assert result.findings == {}
    assert result.ignored == 1
    assert runtime_rows(space) == []


def test_a_protected_file_never_becomes_a_finding(space):
    space.write_config(
        mechanic={"protected": ["core.js"]}, raw='\n[[errorlog]]\npath = "logs/*-error.log"\n'
    )
    core = space.file("core.js", WORKER_JS)
    crash(["node", str(core)], space.logs / "core-error.log")
    assert step(space).findings == {}


def test_node_syntax_errors_take_their_place_from_the_caret_block(space):
    broken = space.file("bad.js", "const a = [1, 2].map(x => x));\n")
    crash(["node", str(broken)], space.logs / "bad-error.log")
    finding = step(space).findings[broken.resolve()]
    assert finding.message == "SyntaxError: Unexpected token ')'"
    assert (finding.line, finding.column) == (1, 29)


def test_es_module_traces_with_file_urls(space):
    source = "export function run() {\n  return g();\n}\nrun();\n"
    module = space.file("dir with space/job.mjs", source)
    crash(["node", str(module)], space.logs / "job-error.log")
    finding = step(space).findings[module.resolve()]
    assert (finding.line, finding.column) == (2, 3)  # where node says it threw
    assert finding.message == "ReferenceError: g is not defined"


def test_pm2_prefixes_and_json_records_are_tolerated(space):
    worker = space.file("worker.js", WORKER_JS)
    done = subprocess.run(["node", str(worker)], capture_output=True, text=True, check=False)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() + 5))
    # --time: one prefix per chunk written, so only on the first line.
    (space.logs / "a-error.log").write_text(f"{stamp}: {done.stderr}")
    # --log-type json: one record per chunk.
    import json

    record = {"message": done.stderr, "timestamp": stamp, "type": "err", "app_name": "b"}
    (space.logs / "b-error.log").write_text(json.dumps(record) + "\n")
    # `pm2 logs` output saved to a file.
    lines = "".join(f"0|worker  | {line}\n" for line in done.stderr.splitlines())
    (space.logs / "c-error.log").write_text(lines)
    result = step(space)
    assert result.findings[worker.resolve()].line == 4
    [error] = result.errors
    assert error.count == 3  # one error, one signature, three sightings


def test_one_error_repeated_is_one_finding(space):
    server = space.file(
        "server.py",
        "import sys\nport = int(sys.argv[1])\n"
        "raise TypeError(f'bad port {port} at {hex(id(port))}')\n",
    )
    log = space.logs / "server-error.log"
    for port in ("8080", "8081", "9000"):
        crash([sys.executable, str(server), port], log)
    result = step(space)
    [error] = result.errors
    assert error.count == 3
    assert len(result.findings) == 1
    assert result.findings[server.resolve()].line == 3


def test_each_line_is_read_once(space):
    worker = space.file("worker.js", WORKER_JS)
    crash(["node", str(worker)], space.logs / "worker-error.log")
    step(space)
    step(space)
    [row] = runtime_rows(space)
    assert row.count == 1
    crash(["node", str(worker)], space.logs / "worker-error.log")
    step(space)
    [row] = runtime_rows(space)
    assert row.count == 2


def test_a_rotated_log_is_finished_and_the_new_one_read_from_its_start(space):
    one = space.file("one.js", "function a() { return undefinedOne(); }\na();\n")
    two = space.file("two.js", "function b() { return undefinedTwo(); }\nb();\n")
    three = space.file("three.js", "function c() { return undefinedThree(); }\nc();\n")
    log = space.logs / "app-error.log"
    crash(["node", str(one)], log)
    step(space)
    crash(["node", str(two)], log)  # written after the last read...
    log.rename(space.logs / "app-error.log.1")  # ...then rotated away by rename
    crash(["node", str(three)], log)  # the new log
    result = step(space)
    assert set(result.findings) == {one.resolve(), two.resolve(), three.resolve()}
    assert {row.count for row in runtime_rows(space)} == {1}  # nothing read twice
    step(space)
    assert {row.count for row in runtime_rows(space)} == {1}


def test_copy_and_truncate_rotation_reads_nothing_twice(space):
    space.write_config(raw='\n[[errorlog]]\npath = "logs/*-error.log*"\n')
    one = space.file("one.js", "function a() { return undefinedOne(); }\na();\n")
    two = space.file("two.js", "function b() { return undefinedTwo(); }\nb();\n")
    log = space.logs / "app-error.log"
    crash(["node", str(one)], log)
    step(space)
    copy = space.logs / "app-error.log.1"
    copy.write_bytes(log.read_bytes())  # pm2-logrotate: copy, then truncate
    with open(log, "r+b") as handle:
        handle.truncate(0)
    crash(["node", str(two)], log)
    result = step(space)
    assert set(result.findings) == {one.resolve(), two.resolve()}
    assert {row.count for row in runtime_rows(space)} == {1}


def test_a_finding_stays_until_the_file_changes_unless_it_recurs(space):
    worker = space.file("worker.js", WORKER_JS)
    log = space.logs / "worker-error.log"
    crash(["node", str(worker)], log)
    assert worker.resolve() in step(space).findings
    assert worker.resolve() in step(space).findings  # still there: nothing changed
    worker.write_text(WORKER_JS.replace("readCorrectionFile(input)", "readCorrectionFil(input)"))
    assert step(space).findings == {}  # changed: considered addressed
    crash(["node", str(worker)], log)  # ...but it crashes again
    result = step(space)
    assert result.findings[worker.resolve()].message.endswith("readCorrectionFil is not defined")


def test_an_error_logged_before_the_file_last_changed_is_already_addressed(space):
    worker = space.file("worker.js", WORKER_JS)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 600))
    done = subprocess.run(["node", str(worker)], capture_output=True, text=True, check=False)
    (space.logs / "worker-error.log").write_text(f"{stamp}: {done.stderr}")
    assert step(space).findings == {}
    [row] = runtime_rows(space)
    assert row.addressed_at is not None


def test_errors_older_than_max_age_are_ignored(space):
    space.write_config(raw='\n[[errorlog]]\npath = "logs/*-error.log"\nmax_age_minutes = 5\n')
    worker = space.file("worker.js", WORKER_JS)
    done = subprocess.run(["node", str(worker)], capture_output=True, text=True, check=False)
    old = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 3600))
    (space.logs / "worker-error.log").write_text(f"{old}: {done.stderr}")
    os.utime(worker, (time.time() - 7200, time.time() - 7200))
    assert step(space).findings == {}
    assert runtime_rows(space) == []


def test_an_old_log_seen_for_the_first_time_is_read_from_its_end(space):
    worker = space.file("worker.js", WORKER_JS)
    log = space.logs / "worker-error.log"
    crash(["node", str(worker)], log)
    os.utime(log, (time.time() - 7200, time.time() - 7200))  # older than max_age (60)
    assert step(space).findings == {}
    crash(["node", str(worker)], log)  # new lines after that are read
    assert worker.resolve() in step(space).findings


def test_a_trace_still_being_written_waits_for_its_end(space):
    calc = space.file("calc.py", CALC_PY)
    stderr = subprocess.run(
        [sys.executable, str(calc)], capture_output=True, text=True, check=False
    ).stderr
    log = space.logs / "calc-error.log"
    head, tail = stderr.rsplit("NameError", 1)
    log.write_text(head)  # the frames so far, not yet the exception line
    assert step(space).findings == {}
    with open(log, "a") as handle:
        handle.write("NameError" + tail)
    assert step(space).findings[calc.resolve()].line == 2
    [row] = runtime_rows(space)
    assert row.count == 1


def test_other_exception_types_are_left_alone_unless_listed(space):
    app = space.file("app.py", "raise RuntimeError('database is down')\n")
    crash([sys.executable, str(app)], space.logs / "app-error.log")
    assert step(space).findings == {}
    space.write_config(raw='\n[[errorlog]]\npath = "logs/*-error.log"\nerrors = ["*"]\n')
    crash([sys.executable, str(app)], space.logs / "app-error.log")
    assert step(space).findings[app.resolve()].message == "RuntimeError: database is down"


def test_a_chained_traceback_counts_its_last_exception():
    text = """\
Traceback (most recent call last):
  File "/w/a.py", line 5, in g
    {}["k"]
KeyError: 'k'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/w/a.py", line 8, in <module>
    g()
  File "/w/a.py", line 7, in g
    f(1)
NameError: name 'f' is not defined
"""
    [trace], pending = parse(clean_lines(text.splitlines()))
    assert pending is None
    assert (trace.error_type, trace.frames[0].line, trace.frames[0].function) == (
        "NameError",
        7,
        "g",
    )


def test_node_error_codes_and_anonymous_frames_are_read():
    text = """\
TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string. Received undefined
    at new NodeError (node:internal/errors:405:5)
    at Object.join (node:path:1172:7)
    at /srv/app/paths.js:12:17
    at Array.map (<anonymous>)
    at async load [as loadAll] (file:///srv/app/load.mjs:3:9) {
  code: 'ERR_INVALID_ARG_TYPE'
}
"""
    [trace], _ = parse(clean_lines(text.splitlines()), final=True)
    assert trace.error_type == "TypeError"
    assert trace.message.startswith('The "path" argument must be of type string')
    frames = [(f.path, f.line, f.column, f.function) for f in trace.frames]
    assert ("/srv/app/paths.js", 12, 17, "") in frames
    assert ("/srv/app/load.mjs", 3, 9, "load [as loadAll]") in frames


def test_a_relative_traceback_path_resolves_against_the_watch_roots(space):
    calc = space.file("calc.py", CALC_PY)
    trace = (
        "Traceback (most recent call last):\n"
        '  File "calc.py", line 9, in <module>\n'
        '  File "calc.py", line 2, in total\n'
        "NameError: name 'bonus' is not defined\n"
    )
    (space.logs / "calc-error.log").write_text(trace)
    assert step(space).findings[calc.resolve()].line == 2


def test_a_flood_is_cut_to_its_newest_part(space, monkeypatch):
    import mechanic.detect.errorlog as errorlog

    monkeypatch.setattr(errorlog, "MAX_READ_BYTES", 64 * 1024)
    one = space.file("one.js", "function a() { return undefinedOne(); }\na();\n")
    two = space.file("two.js", "function b() { return undefinedTwo(); }\nb();\n")
    log = space.logs / "app-error.log"
    crash(["node", str(one)], log)
    with open(log, "a") as handle:
        handle.write("noise that is not a trace\n" * 10_000)
    crash(["node", str(two)], log)
    result = step(space)
    assert set(result.findings) == {two.resolve()}


def test_a_log_that_cannot_be_parsed_changes_nothing(space):
    space.file("calc.py", CALC_PY)
    (space.logs / "bin-error.log").write_bytes(bytes(range(256)) * 100 + b"\n")
    (space.logs / "dir-error.log").mkdir()
    assert step(space).findings == {}


def test_megabytes_without_a_line_end_are_stepped_over(space, monkeypatch):
    import mechanic.detect.errorlog as errorlog

    monkeypatch.setattr(errorlog, "MAX_READ_BYTES", 64 * 1024)
    worker = space.file("worker.js", WORKER_JS)
    log = space.logs / "worker-error.log"
    log.write_bytes(b"x" * 200_000)  # a runaway write with no newline
    step(space)
    with Store.open(space.state) as store:
        [offset] = store.log_offsets().values()
    assert offset.offset == 200_000  # stepped over, not read again next cycle
    with open(log, "a") as handle:
        handle.write("\n")
    crash(["node", str(worker)], log)
    assert worker.resolve() in step(space).findings
    with Store.open(space.state) as store:
        [offset] = store.log_offsets().values()
    assert offset.offset == log.stat().st_size


# --- a SyntaxError belongs to the file that does not parse, never to its caller ---

FORMAT_JS = """\
function format(value) {
  return '[' + String(value) + ']';

module.exports = { format };
"""
REQUIRES_FORMAT_JS = """\
const { format } = require('./lib/format');

console.log(format(42));
"""


def test_a_require_of_a_module_missing_its_brace_blames_only_that_module(space):
    # node: "format.js:5", a blank code line and a blank caret line, "Unexpected end of
    # input", and a stack whose only watched frame is worker.js, which is healthy.
    formatter = space.file("lib/format.js", FORMAT_JS)
    worker = space.file("worker.js", REQUIRES_FORMAT_JS)
    stderr = crash(["node", str(worker)], space.logs / "worker-error.log")
    assert "Unexpected end of input" in stderr and f"{worker}:1" in stderr
    result = step(space)
    assert list(result.findings) == [formatter.resolve()]
    finding = result.findings[formatter.resolve()]
    assert finding.message == "SyntaxError: Unexpected end of input"
    assert finding.line == 5
    assert [Path(r.path).name for r in runtime_rows(space)] == ["format.js"]


def test_a_require_of_an_unwatched_module_that_does_not_parse_blames_nobody(space, tmp_path):
    library = tmp_path / "vendor" / "format.js"
    library.parent.mkdir()
    library.write_text(FORMAT_JS)
    worker = space.file("worker.js", f"require({str(library)!r});\n")
    crash(["node", str(worker)], space.logs / "worker-error.log")
    result = step(space)
    assert result.findings == {}  # the requiring frame is not the fault
    assert runtime_rows(space) == []


def test_a_python_import_of_a_module_that_does_not_parse_blames_that_module(space):
    helper = space.file("helper.py", "def double(x):\nreturn x * 2\n")
    main = space.file("main.py", "import helper\n\nprint(helper.double(2))\n")
    done = subprocess.run(
        [sys.executable, str(main)], capture_output=True, text=True, cwd=space.src, check=False
    )
    assert "IndentationError" in done.stderr and 'main.py", line 1, in <module>' in done.stderr
    (space.logs / "main-error.log").write_text(done.stderr)
    result = step(space)
    assert list(result.findings) == [helper.resolve()]
    assert result.findings[helper.resolve()].line == 2


def test_a_python_import_of_an_unwatched_module_that_does_not_parse_blames_nobody(space, tmp_path):
    library = tmp_path / "site" / "lib.py"
    library.parent.mkdir()
    library.write_text("def f(:\n    pass\n")
    app = space.file("app.py", "import lib\n")
    env = {**os.environ, "PYTHONPATH": str(library.parent)}
    done = subprocess.run(
        [sys.executable, str(app)], capture_output=True, text=True, env=env, check=False
    )
    assert "SyntaxError" in done.stderr
    (space.logs / "app-error.log").write_text(done.stderr)
    assert step(space).findings == {}


def test_the_blank_caret_header_is_read_from_the_text_node_prints():
    text = (
        "/srv/app/lib/format.js:5\n\n\n\n"
        "SyntaxError: Unexpected end of input\n"
        "    at wrapSafe (node:internal/modules/cjs/loader:1464:18)\n"
        "    at Object.<anonymous> (/srv/app/worker.js:1:20)\n"
    )
    (trace,), _ = parse(clean_lines(text.splitlines(keepends=True)), final=True)
    assert trace.header is not None
    assert (trace.header.path, trace.header.line) == ("/srv/app/lib/format.js", 5)


def test_a_runtime_syntax_error_in_a_file_that_parses_is_dropped_with_a_log_line(space):
    # JSON.parse throws a SyntaxError about data; node's header names the script,
    # which parses: no finding, no model, and the log says why.
    reader = space.file("reader.js", "const data = JSON.parse('{\"a\": 1');\nconsole.log(data);\n")
    stderr = crash(["node", str(reader)], space.logs / "reader-error.log")
    assert "SyntaxError" in stderr and f"{reader}:1" in stderr
    checked = space.run("check", "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.json == []
    events = [json.loads(line) for line in (space.state / "mechanic.log").read_text().splitlines()]
    dropped = [e for e in events if e.get("event") == "runtime.dropped"]
    assert [Path(e["file"]).name for e in dropped] == ["reader.js"]
    assert space.run("check", "--json").json == []  # and it does not come back


def test_once_prints_runtime_errors_and_files_still_broken_together(space):
    """`once` lists a runtime error from a log and a file it could not fix in one
    summary (the split CLI once crashed with a TypeError when it printed both)."""
    calc = space.file("calc.py", CALC_PY)
    crash([sys.executable, str(calc)], space.logs / "calc-error.log")
    space.file("broken.py", "def f(:\n    return 1 +\n")
    result = space.run("once")
    assert "Traceback" not in result.stderr, result.stderr
    assert "runtime" in result.stdout and "calc.py:2" in result.stdout, result.stdout
    assert "broken.py" in result.stdout, result.stdout
