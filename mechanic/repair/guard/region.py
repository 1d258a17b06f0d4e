"""The region rule: a change outside the faulty region; and the one import an error asks for."""

from __future__ import annotations

import ast
import bisect
import re
from collections import Counter

from mechanic.detect.checkers.base import Finding
from mechanic.files import linediff
from mechanic.repair.baseline import Baseline, changed_region
from mechanic.repair.guard.hunks import (
    BASELINE_MAX_SPAN,
    EOF,
    JS_UNDEFINED,
    LINES_AFTER,
    LINES_BEFORE,
    PUNCTUATION_LINES,
    PY_UNDEFINED,
    Refusal,
)

# --- the region -----------------------------------------------------------------------


class Region:
    """The lines of the broken text a fix may change (0-based)."""

    def __init__(self, broken: str, finding: Finding, baseline: Baseline | None) -> None:
        self.lines = broken.split("\n")
        n = len(self.lines)
        code = [i for i, line in enumerate(self.lines) if line.strip()]
        at = min(max((finding.line or n) - 1, 0), max(n - 1, 0))
        focus = [at] + [int(m) - 1 for m in re.findall(r"on line (\d+)", finding.message)]
        self.strict: set[int] = set()
        for line in focus:
            self.strict |= code_window(code, line, LINES_BEFORE, LINES_AFTER)
        self.loose = set()
        for line in focus:
            self.loose |= set(range(line - PUNCTUATION_LINES, line + PUNCTUATION_LINES + 1))
        self.eof = bool(EOF.search(finding.message))
        self.indentation = "indent" in finding.message.lower()
        if baseline is not None:
            span = changed_region(self.lines, baseline.text.split("\n"))
            if span is not None and span[1] - span[0] <= BASELINE_MAX_SPAN:
                self.strict |= set(range(span[0], span[1] + 1))
                self.loose |= set(range(span[0], span[1] + 1))

    def outside(self, broken: str, candidate: str, finding: Finding) -> Refusal | None:
        # Blank lines are left out: a model drops the final newline or adds a blank line.
        old = [(i, line.rstrip()) for i, line in enumerate(broken.split("\n")) if line.strip()]
        new = [line.rstrip() for line in candidate.split("\n") if line.strip()]
        a = [line for _, line in old]
        lo = 0
        while lo < min(len(a), len(new)) and a[lo] == new[lo]:
            lo += 1
        hi = 0
        while hi < min(len(a), len(new)) - lo and a[-1 - hi] == new[-1 - hi]:
            hi += 1
        matcher = linediff.matcher(a[lo : len(a) - hi], new[lo : len(new) - hi])
        at = [i for i, _ in old] + [len(self.lines)]
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            i1, i2, j1, j2 = i1 + lo, i2 + lo, j1 + lo, j2 + lo
            if i2 > i1:
                touched = {at[i] for i in range(i1, i2)}
                inside = touched <= self.strict
            else:  # lines inserted between two lines of the broken text
                touched = {at[i1 - 1] if i1 else 0, at[i1]}
                inside = bool(touched & self.strict)
            if inside or self._allowed_far(a[i1:i2], new[j1:j2], touched):
                continue
            first = min(touched) + 1
            return Refusal(
                "region",
                f"it changes line {first}, outside the faulty region (the error's statement"
                f" at line {finding.line or len(self.lines)} and the lines changed since the"
                " last good version)",
            )
        return None

    def _allowed_far(self, before: list[str], after: list[str], touched: set[int]) -> bool:
        """Punctuation placed where the layout says, and re-indentation for an
        indentation error, may be further from the reported line."""
        strip = ["".join(s.split()) for s in before]
        strip_after = ["".join(s.split()) for s in after]
        if self.indentation and strip == strip_after and touched <= self.loose:
            return True
        if not (self.eof or touched <= self.loose):
            return False
        old_chars = Counter("".join(strip))
        new_chars = Counter("".join(strip_after))
        extra, lost = new_chars - old_chars, old_chars - new_chars
        return not lost and set(extra) <= set(")]};,")


def code_window(code: list[int], line: int, before: int, after: int) -> set[int]:
    k = bisect.bisect_left(code, line)
    lo = code[max(k - before, 0)] if code else line
    hi_index = k + after if k < len(code) and code[k] == line else k + after - 1
    hi = code[min(hi_index, len(code) - 1)] if code else line
    return set(range(min(lo, line), max(hi, line) + 1))


def changed_new_lines(broken: str, candidate: str) -> set[int]:
    """1-based lines of the candidate that differ from the broken text."""
    a, b = broken.split("\n"), candidate.split("\n")
    matcher = linediff.matcher(a, b)
    changed: set[int] = set()
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            changed.update(range(j1 + 1, j2 + 1))
    return changed


# --- the import the error asks for -----------------------------------------------------


def without_requested_import(
    broken: str, candidate: str, language: str | None, finding: Finding
) -> tuple[str, str | None]:
    """The candidate without the one import/require of the name a NameError or
    ReferenceError reports undefined (the statement that error calls for), and that
    name; else the candidate itself and None."""
    pattern = {"python": PY_UNDEFINED, "javascript": JS_UNDEFINED}.get(language or "")
    if pattern is None or finding.kind != "runtime":
        return candidate, None
    match = pattern.search(finding.message)
    if match is None:
        return candidate, None
    name = match.group(1)
    old, new = broken.split("\n"), candidate.split("\n")
    matcher = linediff.matcher(old, new)
    inserts = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if len(inserts) < 1 or inserts[0][0] != "insert":
        return candidate, None
    _, _, _, j1, j2 = inserts[0]
    added = [line for line in new[j1:j2] if line.strip()]
    if len(added) != 1 or not imports_exactly(added[0].strip(), name, language):
        return candidate, None
    return "\n".join(new[:j1] + new[j2:]), name


def imports_exactly(line: str, name: str, language: str | None) -> bool:
    if language == "python":
        try:
            tree = ast.parse(line)
        except SyntaxError:
            return False
        if len(tree.body) != 1 or not isinstance(tree.body[0], (ast.Import, ast.ImportFrom)):
            return False
        bound = {(a.asname or a.name).split(".")[0] for a in tree.body[0].names}
        return bound == {name}
    quoted = r"""(['"])[\w@./-]+\1"""
    patterns = (
        rf"(?:const|let|var)\s+{re.escape(name)}\s*=\s*require\(\s*{quoted}\s*\)\s*;?",
        rf"(?:const|let|var)\s+\{{\s*{re.escape(name)}\s*\}}\s*=\s*require\(\s*{quoted}\s*\)\s*;?",
        rf"import\s+(?:\*\s+as\s+)?{re.escape(name)}\s+from\s+{quoted}\s*;?",
        rf"import\s+\{{\s*{re.escape(name)}\s*\}}\s+from\s+{quoted}\s*;?",
    )
    return any(re.fullmatch(p, line) for p in patterns)
