"""Localising a fault beyond the parser, and telling which broken files to leave alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from mechanic.detect.checkers.base import Finding
from mechanic.repair.baseline import (
    Baseline,
    changed_region,
    conflict_markers,
    focus_lines,
    needs_a_person,
)

GOOD = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(30))


def finding(line: int | None, message: str = "SyntaxError: invalid syntax") -> Finding:
    return Finding(Path("m.py"), "python", line, None, message)


def test_the_changed_region_is_the_edited_lines():
    now = GOOD.replace("return x + 7", "return (x + 7").split("\n")
    assert changed_region(now, GOOD.split("\n")) == (22, 22)
    assert changed_region(GOOD.split("\n"), GOOD.split("\n")) is None


def test_deleted_lines_point_at_the_line_above_the_gap():
    now = GOOD.replace("def f9(x):\n    return x + 9\n", "def f9(x):\n").split("\n")
    assert changed_region(now, GOOD.split("\n")) == (27, 27)


def test_conflict_markers_need_the_whole_set():
    lines = ["a", "<<<<<<< HEAD", "b", "=======", "c", ">>>>>>> other"]
    assert conflict_markers(lines) == 2
    assert conflict_markers(["a", "<<<<<<< HEAD", "b"]) is None
    assert conflict_markers(["x = '=======' "]) is None


def test_a_file_cut_short_and_broken_at_its_end_is_truncated():
    cut = GOOD[: len(GOOD) // 2].rstrip() + "\ndef g(x:\n"
    last = len(cut.rstrip("\n").split("\n"))
    kind, reason = needs_a_person(cut, finding(last), Baseline(GOOD, "last good version"))
    assert kind == "truncated" and "last good version" in reason


@pytest.mark.parametrize(
    ("text", "line", "base"),
    [
        (GOOD[: len(GOOD) // 2] + "x = (\n", 3, GOOD),  # short, but broken near its start
        (GOOD.replace("return x + 3", "return (x + 3"), 11, GOOD),  # as long as before
        (GOOD[: len(GOOD) // 2] + "x = (\n", None, None),  # nothing to compare with
    ],
    ids=["error-not-at-the-end", "not-shorter", "no-baseline"],
)
def test_other_broken_files_are_not_truncated(text, line, base):
    reference = Baseline(base, "last good version") if base else None
    assert needs_a_person(text, finding(line), reference) is None


def test_a_runtime_error_is_never_a_truncation():
    cut = GOOD[: len(GOOD) // 2]
    crash = Finding(Path("m.py"), "python", 40, None, "NameError: x", kind="runtime")
    assert needs_a_person(cut, crash, Baseline(GOOD, "git HEAD")) is None


def test_focus_adds_the_changed_lines_near_the_error_and_trusts_them_at_eof():
    now = GOOD.replace("return x + 7", "return (x + 7").split("\n")
    base = Baseline(GOOD, "last good version")
    focus, why = focus_lines(now, finding(24), base)
    assert 23 in focus and 22 in focus and "changed" in why
    focus, why = focus_lines(now, finding(len(now), "SyntaxError: '(' was never closed"), base)
    assert focus == [22, 22]
    focus, _ = focus_lines(now, finding(5, "expected an indented block after 'if' on line 3"), None)
    assert focus == [4, 2]
