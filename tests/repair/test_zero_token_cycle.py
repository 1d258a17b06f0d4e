"""The zero-token rung inside `mechanic once`, and static findings in scans."""

from __future__ import annotations

import sys

BROKEN_PY = "def report(rows):\n    for row in rows\n        print(row)\n"
FIXED_PY = "def report(rows):\n    for row in rows:\n        print(row)\n"
BROKEN_JS = (
    "const fs = require('fs');\n\nfunction processData(input) {\n"
    "  const result = [1,2,3].map(x => x * 2));\n  return result;\n}\n"
    "module.exports = { processData };\n"
)


def test_backend_none_repairs_syntax_errors_without_a_model(workspace):
    py = workspace.file("report.py", BROKEN_PY)
    js = workspace.file("worker.js", BROKEN_JS)
    result = workspace.run("once", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    attempts = result.attempts()
    for name in ("report.py", "worker.js"):
        assert attempts[name]["outcome"] == "applied"
        assert attempts[name]["backend"] == "deterministic"
        assert attempts[name]["tokens"] == {"prompt": 0, "answer": 0}
    assert py.read_text() == FIXED_PY
    assert js.read_text() == BROKEN_JS.replace("x * 2));", "x * 2);")
    assert len(workspace.backups_of("report.py")) == 1
    assert workspace.backups_of("report.py")[0].read_text() == BROKEN_PY
    # The fix is an ordinary attempt: it can be undone.
    undo = workspace.run("revert", str(attempts["report.py"]["id"]))
    assert undo.returncode == 0, undo.stderr
    assert py.read_text() == BROKEN_PY


def test_deterministic_false_leaves_files_to_the_model(workspace):
    workspace.write_config(raw="[repair]\ndeterministic = false\n")
    py = workspace.file("report.py", BROKEN_PY)
    result = workspace.run("once", "--json")
    assert result.returncode == 1
    assert result.json["attempts"] == []
    assert "backend is 'none'" in result.json["held"][0]["reason"]
    assert py.read_text() == BROKEN_PY


def test_a_dry_run_shows_the_fix_and_writes_nothing(workspace):
    py = workspace.file("report.py", BROKEN_PY)
    result = workspace.run("once", "--dry-run", "--json")
    assert result.returncode == 1
    assert result.json["attempts"] == []
    [held] = result.json["held"]
    assert "zero-token fix was found" in held["reason"]
    assert "+    for row in rows:" in held["reason"]
    assert py.read_text() == BROKEN_PY
    assert workspace.backups_of("report.py") == []


def test_protected_files_are_never_fixed_by_the_rung(workspace):
    workspace.write_config(mechanic={"protected": ["report.py"]})
    py = workspace.file("report.py", BROKEN_PY)
    result = workspace.run("once", "--json")
    assert result.json["attempts"] == []
    assert "protected" in result.json["held"][0]["reason"]
    assert py.read_text() == BROKEN_PY


def test_a_file_no_small_edit_fixes_waits_for_a_model(workspace):
    hopeless = "def (((:\n    ]] }} return return\n"
    py = workspace.file("hopeless.py", hopeless)
    result = workspace.run("once", "--json")
    assert result.returncode == 1
    assert result.json["attempts"] == []
    assert py.read_text() == hopeless


def test_a_new_undefined_name_becomes_a_static_finding(workspace):
    py = workspace.file("app.py", "import os\n\n\ndef main():\n    return os.getcwd()\n")
    js = workspace.file("app.js", "const fs = require('fs');\nmodule.exports = fs;\n")
    assert workspace.run("check").returncode == 0
    py.write_text("import os\n\n\ndef main():\n    return os.getcwd() + readCorrectionFile()\n")
    js.write_text("const fs = require('fs');\nmodule.exports = readCorrectionFile(fs);\n")
    result = workspace.run("check", "--json")
    assert result.returncode == 1
    found = {f["file"].rsplit("/", 1)[1]: f for f in result.json}
    assert found["app.py"]["message"] == "undefined name 'readCorrectionFile'"
    assert found["app.py"]["line"] == 5 and found["app.py"]["kind"] == "static"
    assert found["app.js"]["message"] == "'readCorrectionFile' is not defined"
    # Still reported next time (the file is not cached as clean), and gone once fixed.
    assert workspace.run("check").returncode == 1
    py.write_text("import os\n\n\ndef main():\n    return os.getcwd()\n")
    js.write_text("const fs = require('fs');\nmodule.exports = fs;\n")
    assert workspace.run("check").returncode == 0


def test_files_seen_for_the_first_time_are_the_static_baseline(workspace):
    # Code mechanic has never seen change is not analysed: no noise from old code.
    workspace.file("legacy.py", "def f():\n    return helper_defined_elsewhere()\n")
    result = workspace.run("check", "--json")
    assert result.returncode == 0 and result.json == []


def test_the_model_is_asked_only_for_what_the_rung_cannot_fix(workspace, ollama_standin):
    from tests.support.ollama_standin import Reply

    workspace.write_config(
        llm={"backend": "ollama", "host": ollama_standin.url}, repair={"deterministic": True}
    )
    one = workspace.file("one.py", BROKEN_PY)
    # Four lost tokens: more than the rung's two edits.
    rest = "".join(f"\n\ndef f{i}(x):\n    return x * {i}\n" for i in range(8))
    two_faults = "def mean(values\n    total = sum(values\n    return total / len(values\n" + rest
    fixed_two = (
        "def mean(values):\n    total = sum(values)\n    return total / len(values)\n" + rest
    )
    two = workspace.file("two.py", two_faults)
    ollama_standin.reply(Reply(fixed_two, prompt_eval_count=50, eval_count=20))
    result = workspace.run("once", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    attempts = result.attempts()
    assert attempts["one.py"]["backend"] == "deterministic"
    assert attempts["two.py"]["backend"] == "ollama"
    assert attempts["two.py"]["tokens"]["prompt"] == 50
    assert one.read_text() == FIXED_PY and two.read_text() == fixed_two
    # Only the file with two faults reached the model.
    [request] = ollama_standin.inference_requests
    assert "total / len(values" in str(request.body)


def test_a_zero_token_fix_is_validated_by_the_roots_tests(workspace):
    workspace.write_config(
        watch={"test_cmd": f"{sys.executable} -m pytest -q -p no:cacheprovider tests"}
    )
    workspace.file("calc.py", "def add(a, b)\n    return a + b\n")
    workspace.file(
        "tests/test_calc.py",
        "import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parent.parent))\n"
        "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n",
    )
    result = workspace.run("once", "--json")
    attempt = result.attempts()["calc.py"]
    assert attempt["backend"] == "deterministic" and attempt["outcome"] == "applied"
    assert "tests:" in attempt["reason"] and "1 with the fix" in attempt["reason"]


def test_a_model_fix_that_adds_an_undefined_name_is_rejected(workspace, ollama_standin):
    from tests.support.ollama_standin import Reply

    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    broken = "import os\n\n\ndef main()\n    return os.getcwd()\n"
    path = workspace.file("app.py", broken)
    answer = "import os\n\n\ndef main():\n    return os.getcwd() + helper_never_defined()\n"
    ollama_standin.reply(Reply(answer))
    result = workspace.run("once", "--json")
    attempt = result.attempts()["app.py"]
    assert attempt["outcome"] == "rejected"
    # The meaning guard sees the new call before static analysis sees the new name.
    assert "meaning guard refuses it (added-code)" in attempt["reason"]
    assert "helper_never_defined" in attempt["reason"]
    assert path.read_text() == broken


def test_a_model_fix_for_a_static_finding_must_remove_it(workspace, ollama_standin):
    from tests.support.ollama_standin import Reply

    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    good = "const fs = require('fs');\nmodule.exports = () => fs.readFileSync('x');\n"
    path = workspace.file("app.js", good)
    assert workspace.run("check").returncode == 0  # first sight: the baseline
    broken = good.replace("fs.readFileSync('x')", "readCorrectionFile('x')")
    path.write_text(broken)
    # A first answer that does not fix it, then one that does.
    same = broken.replace("readCorrectionFile('x')", "readCorrectionFile( 'x' )")
    ollama_standin.replies([Reply(same), Reply(good)])
    first = workspace.run("once", "--json")
    attempt = first.attempts()["app.js"]
    assert attempt["outcome"] == "rejected"
    assert "leaves the error it was asked to fix" in attempt["reason"]
    assert path.read_text() == broken
    workspace.write_config(
        llm={"backend": "ollama", "host": ollama_standin.url},
        mechanic={"file_cooldown_hours": 0},
    )
    second = workspace.run("once", "--json")
    assert second.attempts()["app.js"]["outcome"] == "applied", second.stdout
    assert path.read_text() == good


def test_a_new_static_analysis_invalidates_cached_clean_verdicts(workspace, monkeypatch):
    from mechanic.config.load import load_config
    from mechanic.detect import static
    from mechanic.detect.checkers import CheckerSet
    from mechanic.detect.discovery import Finder
    from mechanic.detect.scan import scan
    from mechanic.store import Store

    workspace.file("a.py", "x = 1\n")
    workspace.file("b.js", "module.exports = 1;\n")
    config = load_config(workspace.config_path)

    def checked() -> int:
        with Store.open(config.mechanic.state_dir) as store, CheckerSet() as checkers:
            return scan(Finder(config), checkers, store, max_file_bytes=1 << 20).checked

    assert checked() == 2
    assert checked() == 0  # warm: trusted
    monkeypatch.setattr(static, "STATIC_REVISION", static.STATIC_REVISION + 1)
    assert checked() == 2  # what "clean" means changed: judged again
    assert checked() == 0
