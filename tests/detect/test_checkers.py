"""Python, shell, JSON and TOML checkers: the language's own verdict and location."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mechanic.detect.checkers import CheckerSet, language_of
from mechanic.detect.checkers.data import JSONChecker, TOMLChecker
from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.checkers.shell import ShellChecker
from mechanic.errors import CheckerUnavailable

P = Path("x.py")


def test_valid_python_passes():
    assert PythonChecker().check_source(P, b"def f():\n    return 1\n") is None


@pytest.mark.parametrize(
    ("source", "line", "kind"),
    [
        (b"x = 1\ndef f(:\n    pass\n", 2, "SyntaxError"),
        (b"def f():\nreturn 1\n", 2, "IndentationError"),
        (b"x = 1\nreturn 2\n", 2, "SyntaxError"),  # found by compile(), not by the parser
        (b"if True:\n\tx = 1\n        y = 2\n", 3, "Error"),
    ],
)
def test_python_errors_carry_line_and_kind(source, line, kind):
    finding = PythonChecker().check_source(P, source)
    assert finding is not None
    assert finding.line == line
    assert kind in finding.message
    assert finding.language == "python"


def test_python_honours_a_coding_declaration():
    source = "# -*- coding: latin-1 -*-\ns = 'caf\u00e9'\n".encode("latin-1")
    assert PythonChecker().check_source(P, source) is None


def test_python_null_bytes_are_a_finding_not_a_crash():
    assert PythonChecker().check_source(P, b"x = 1\x00\n") is not None


@pytest.mark.skipif(not shutil.which("bash"), reason="bash missing")
def test_shell_scripts_are_judged_by_bash():
    checker = ShellChecker()
    assert checker.check_source(Path("a.sh"), b"echo hi\nif true; then echo ok; fi\n") is None
    finding = checker.check_source(Path("a.sh"), b"echo hi\nif true; then\n  echo x\n")
    assert finding is not None and finding.line == 4
    assert "syntax error" in finding.message


def test_shell_without_bash_is_unavailable():
    with pytest.raises(CheckerUnavailable, match="bash"):
        ShellChecker(bash="/nonexistent/bash").check_source(Path("a.sh"), b"echo\n")


def test_json_errors_carry_line_and_column():
    finding = JSONChecker().check_source(Path("a.json"), b'{\n  "a": 1,\n}\n')
    assert (finding.line, finding.column) == (3, 1)
    assert JSONChecker().check_source(Path("a.json"), b'\xef\xbb\xbf{"a": 1}') is None


def test_toml_errors_carry_line_and_column():
    finding = TOMLChecker().check_source(Path("a.toml"), b"[a]\nb = = 1\n")
    assert finding.line == 2
    assert "line" not in finding.message  # the location moved to line/column
    assert TOMLChecker().check_source(Path("a.toml"), b"[a]\nb = 1\n") is None


def test_the_checker_is_chosen_by_extension():
    assert language_of(Path("a.PY")) == "python"
    assert language_of(Path("a.mjs")) == "javascript"
    assert language_of(Path("a.txt")) is None
    with CheckerSet() as checkers:
        assert isinstance(checkers.for_path(Path("b.json")).inner, JSONChecker)
        assert checkers.for_path(Path("b.md")) is None
