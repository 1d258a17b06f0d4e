"""Python 2 is a dialect, not a fault: a tree written in Python 2.7 is held (under
`python = "auto"`), not reported (under "2"), judged as Python 3 (under "3"), and
never rewritten; a Python 3 file with one stray `print x` is still broken."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from mechanic.detect.checkers import python2
from tests.support.workspace import Workspace, once

# A small Python 2.7 application: each file uses some of the constructs Python 3 refuses.
PY2_TREE = {
    "app/__init__.py": '"""The app."""\n__version__ = "1.0"\nprint "loading app",\nprint "ok"\n',
    "app/cli.py": (
        "import sys\n"
        "from app.checks import check\n\n"
        "def main(argv):\n"
        "    try:\n"
        "        value = int(argv[1])\n"
        "    except (IndexError, ValueError), e:\n"
        '        print >>sys.stderr, "usage: cli N", e\n'
        "        return 2\n"
        '    print "value:", check(value),\n'
        "    print\n"
        "    return 0\n"
    ),
    "app/checks.py": (
        "def check(x):\n"
        "    if x < 0:\n"
        '        raise ValueError, "some message"\n'
        "    if x <> 7:\n"
        "        return `x`\n"
        "    return x\n"
    ),
    "app/numbers.py": (
        "MODE = 0777\n"
        "BIG = 10L + 0xFFL\n"
        "UMASK = 0022\n\n"
        "def pairs(items):\n"
        "    return sorted(items, key=lambda (k, v): v)\n\n"
        "def first((a, b), c):\n"
        "    return a\n"
    ),
    "app/text.py": (
        "# -*- coding: utf-8 -*-\n"
        'PATTERN = ur"\\d+ caf\xe9"\n\n'
        "def run(code, namespace):\n"
        "    exec code in namespace\n"
        "    for key, value in namespace.iteritems():\n"
        "\tprint key, value\n"
    ),
    "app/py3_ok.py": "def add(a, b):\n    return a + b\n",
}
STRAY_PRINT_PY3 = (  # print() everywhere but one line
    "import os\n\n"
    "def report(path):\n"
    '    print("checking", path)\n'
    "    size = os.path.getsize(path)\n"
    "    print size\n"
    '    print(f"{path}: done")\n'
)
LONE_PRINT_PY3 = "import os\n\nprint os.getcwd()\n"  # nothing else tells: judged Python 3
PY2_ALSO_BROKEN = 'def f(x):\n    print "x is", x\n    if x > 1\n        return x\n'


def _tree(workspace: Workspace) -> dict[str, str]:
    for rel, text in PY2_TREE.items():
        workspace.file(rel, text)
    return _digests(workspace)


def _digests(workspace: Workspace) -> dict[str, str]:
    return {
        p.relative_to(workspace.src).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(workspace.src.rglob("*.py"))
    }


def _python27() -> str | None:
    pyenv = Path.home() / ".pyenv/versions/2.7.18/bin/python"  # a pyenv shim may be inactive
    return str(pyenv) if pyenv.exists() else shutil.which("python2.7")


def test_the_python2_tree_is_real_python_2(tmp_path):
    """The fixture itself: every file compiles under a real Python 2.7, and every
    file but one fails under Python 3."""
    interpreter = _python27()
    if interpreter is None:
        pytest.skip("no Python 2.7 interpreter here to confirm the fixture with")
    for rel, text in PY2_TREE.items():
        path = tmp_path / rel.replace("/", "_")
        path.write_text(text, encoding="utf-8")
        done = subprocess.run(
            [interpreter, "-c", "import sys; compile(open(sys.argv[1]).read(), 'f', 'exec')", path],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, (rel, done.stderr)
        if rel != "app/py3_ok.py":
            with pytest.raises(SyntaxError):
                compile(text, rel, "exec")


def test_under_auto_a_python2_tree_is_held_and_never_rewritten(workspace):
    before = _tree(workspace)
    result = once(workspace)  # backend "none": the zero-token rung is on
    report = result.json
    assert _digests(workspace) == before  # byte for byte, every file
    assert report["attempts"] == []
    held = {Path(h["file"]).name: h["reason"] for h in report["held"]}
    python2_files = {Path(rel).name for rel in PY2_TREE if rel != "app/py3_ok.py"}
    assert set(held) == python2_files
    assert all(reason.startswith("written in Python 2 (") for reason in held.values())
    assert 'raise X, "msg"' in held["checks.py"] and "<>" in held["checks.py"]
    assert all(f["kind"] == "dialect" for f in report["findings"])
    assert result.returncode == 1  # held, as JSX files are: still reported
    check = workspace.run("check")
    assert check.returncode == 1
    assert "app/checks.py:3" in check.stdout and "written in Python 2" in check.stdout
    assert _digests(workspace) == before


def test_under_auto_the_model_is_never_asked_about_python2(workspace, ollama_standin):
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    before = _tree(workspace)
    ollama_standin.reply("def check(x):\n    return x\n")
    once(workspace)
    assert ollama_standin.requests == []
    ollama_standin.take_errors()  # the scripted reply was never used: that is the point
    assert _digests(workspace) == before


def test_under_python_2_such_files_are_not_reported_at_all(workspace):
    workspace.write_config(watch={"python": "2"})
    before = _tree(workspace)
    result = once(workspace)
    assert result.returncode == 0, result.stdout
    assert result.json["findings"] == [] and result.json["held"] == []
    assert workspace.run("check").returncode == 0
    again = once(workspace)  # the clean verdicts are cached, and stay clean
    assert again.returncode == 0 and again.json["checked"] == 0
    assert _digests(workspace) == before


def test_under_python_2_a_file_broken_in_python_2_too_is_reported_and_held(workspace):
    workspace.write_config(watch={"python": "2"})
    path = workspace.file("broken2.py", PY2_ALSO_BROKEN)
    result = once(workspace)
    assert result.returncode == 1
    [held] = result.json["held"]
    assert "broken in Python 2 too" in held["reason"] and "line 3" in held["reason"]
    assert path.read_text() == PY2_ALSO_BROKEN


def test_under_python_3_they_are_faults_as_before(workspace):
    workspace.write_config(watch={"python": "3"})
    _tree(workspace)
    found = workspace.run("check", "--json").json
    assert len(found) == 5 and all(f["kind"] == "syntax" for f in found)


def test_switching_from_2_to_auto_reports_them_again(workspace):
    workspace.write_config(watch={"python": "2"})
    _tree(workspace)
    assert once(workspace).returncode == 0
    workspace.write_config()
    assert len(workspace.run("check", "--json").json) == 5


@pytest.mark.parametrize("text", [STRAY_PRINT_PY3, LONE_PRINT_PY3], ids=["among-calls", "lone"])
def test_a_python3_file_with_one_stray_print_is_still_broken(workspace, text):
    _tree(workspace)
    workspace.file("report.py", text)
    found = {Path(f["file"]).name: f for f in workspace.run("check", "--json").json}
    assert found["report.py"]["kind"] == "syntax"
    assert "print" in found["report.py"]["message"]
    result = workspace.run("once", "--dry-run", "--json").json
    held = {Path(h["file"]).name: h["reason"] for h in result["held"]}
    assert "Python 2" not in held.get("report.py", "")


# --- the verdict on one file ---------------------------------------------------


def verdict(text: str, *, told: bool = False) -> str | None:
    reading = python2.read(text.encode())
    return reading.verdict(told=told) if reading is not None else None


@pytest.mark.parametrize(
    "text",
    [
        'print "hello", name\nprint "bye"\n',
        "try:\n    pass\nexcept IOError, e:\n    pass\n",
        'raise ValueError, "bad"\n',
        "x = `y`\n",
        "if a <> b:\n    pass\n",
        "mode = 0755\n",
        "n = 10L\n",
        's = ur"\\d"\n',
        "def f(a, (b, c)):\n    return a\n",
        "f = lambda (k, v): k\n",
        'print >>f, "x"\n',
        'print "no newline",\n',
        "import urllib2\nprint urllib2.urlopen(u).read()\n",
        "if d.has_key(k):\n    print k\n",
        "except_ = 1\ntry:\n    x = 1\nexcept (A, B), (code, text):\n    pass\n",
        "x = -7L.real\n",
        "S = 0040000\n",
    ],
)
def test_each_python2_construct_is_read_as_python2(text):
    assert verdict(text) is not None and verdict(text).startswith("written in Python 2")
    assert verdict(text, told=True) is not None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("print x\n", "a lone print statement"),
        ('import os\nprint("a")\nprint("b")\nprint x\n', "print calls outnumber it"),
        ('name = "x"\nprint f"{name}"\nprint name\n', "an f-string"),
        ("def f(x: int) -> int:\n    print x\n    print x\n", "annotations"),
        ("def f(*, a):\n    print a\n    print a\n", "keyword-only arguments"),
        ("from __future__ import print_function\nprint x\nprint y\n", "print_function"),
        ('print("a", end="")\nprint x\nprint y\n', "print(end=)"),
        ("first, *rest = items\nprint first\nprint rest\n", "starred assignment"),
        ("def f():\n    nonlocal x\n    print x\n    print x\n", "nonlocal"),
        ("#!/usr/bin/env python3\nprint x\nprint y\n", "a python3 shebang"),
        ("x = (1 +\nprint x\n", "an error of another kind"),
        ("def f(:\n    pass\n", "no Python 2 construct at all"),
        ('s = "print x"  # print y\nif x\n    pass\n', "print only in a string and a comment"),
        ("from io import StringIO\nprint x\n", "io.StringIO is Python 3 too"),
    ],
)
def test_python3_files_with_a_fault_are_not_held(text, why):
    assert verdict(text) is None, why


def test_told_it_is_python2_a_lone_print_is_python2():
    assert verdict("print x\n") is None
    assert verdict("print x\n", told=True) is not None
    assert verdict('name = "x"\nprint f"{name}"\n', told=True) is None  # no Python 2 has f""


def test_the_rewrite_never_leaves_the_module():
    """What is compiled is a throwaway: the reading holds no rewritten text."""
    reading = python2.read(b'raise ValueError, "bad"\n')
    assert reading is not None
    assert not any(isinstance(v, str) and "ValueError(" in v for v in vars(reading).values())


def test_a_huge_one_line_file_is_read_in_linear_time():
    import time

    text = "DATA = {" + ", ".join(f"{i}: `{i}`" for i in range(100_000)) + "}\n"
    started = time.monotonic()
    reading = python2.read(text.encode())
    assert reading is not None and reading.constructs[python2.BACKTICKS] == 200_000
    assert time.monotonic() - started < 30  # quadratic would take hours


# --- roots too large, or watching nothing ---------------------------------------


@pytest.mark.parametrize("root", ["/", "~"])
def test_a_root_of_the_whole_disk_or_home_needs_allow_large_root(workspace, root, monkeypatch):
    home = workspace.root / "home"
    home.mkdir()
    workspace.write_config(watch={"path": root})
    result = workspace.run("check", env={"HOME": str(home)})
    assert result.returncode == 2, result.stderr
    assert "watch[0].allow_large_root" in result.stderr and "Traceback" not in result.stderr
    workspace.write_config(watch={"path": str(home), "allow_large_root": True})
    assert workspace.run("check", env={"HOME": str(home)}).returncode == 0


def test_more_than_20000_watched_files_need_allow_large_root(workspace):
    for index in range(20_001):
        (workspace.src / f"m{index}.py").touch()
    for command in (["check"], ["once"], ["run"]):
        result = workspace.run(*command, timeout=120)
        assert result.returncode == 2, (command, result.stderr)
        assert "watch[0].allow_large_root" in result.stderr
        assert "more than 20000 watched files" in result.stderr


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[mechanic]\nstate_dir = "state"\n[llm]\nbackend = "none"\n', "watch"),
        ('[llm]\nbackend = "none"\n[[watch]]\npath = "src"\ninclude = []\n', "watch[0].include"),
    ],
    ids=["no-watch", "empty-include"],
)
def test_a_config_that_watches_nothing_is_a_config_error(workspace, text, key):
    workspace.config_path.write_text(text)
    result = workspace.run("once")
    assert result.returncode == 2, result.stdout
    assert f"{key}: " in result.stderr and "nothing" in result.stderr


def test_a_python_3_typo_on_a_def_line_is_not_re_read_as_python_2():
    # `def main(:` is no Python 2 construct: re-reading a 40,000-line file for it
    # cost 1.8 s a cycle. A tuple parameter is, and still is re-read.
    from mechanic.detect.checkers import python2

    assert not python2.worth_reading(b"x = 1\ndef main(:\n    pass\n", 2)
    assert python2.worth_reading(b"x = 1\ndef f(a, (b, c)):\n    pass\n", 2)
    assert python2.worth_reading(b"f = lambda (a, b): a\n", 1)
