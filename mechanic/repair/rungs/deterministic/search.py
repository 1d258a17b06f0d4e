"""The zero-token rung: repair a syntax error by searching small edits near it.

Most syntax errors in a file that used to work are one lost or extra token: a
bracket, a colon, a comma, a quote, a keyword with two letters swapped, a line
that lost its indentation. `search` lists such edits near the reported error,
ranks them (what the error message suggests first, then by size and distance
from the error) and accepts the first one that

1. parses (Python: compile() in-process; JavaScript: a batch of candidates in one
   message to the checker's long-lived node process),
2. adds no static error (`mechanic.detect.static.new_static_errors`), and
3. leaves the rest of the file byte-identical (by construction: an edit replaces a
   span of a few characters and nothing else).

No model, no tokens; within `budget_seconds`. It never writes: the caller hands
the text to the transaction like any other fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from mechanic.detect.checkers.base import Checker, Finding
from mechanic.repair.rungs.deterministic import human
from mechanic.repair.rungs.deterministic.generator import (
    JS_BATCH,
    LANGUAGES,
    SECOND_FAULT_FROM,
    Edit,
    Generator,
)
from mechanic.repair.rungs.deterministic.plausible import (
    Parsed,
    Structure,
    implausible,
    meaning_refusal,
    python_parse,
)
from mechanic.repair.rungs.deterministic.tokens import (
    OutOfTime,
)


def _apply(text: str, edit: Edit) -> str:
    out = text
    for start, end, new in sorted(edit, reverse=True):
        out = out[:start] + new + out[end:]
    return out


# --- validation -----------------------------------------------------------------------


def _python_valid(
    text: str, edits: list[Edit], path: Path, deadline: float, parsed: dict[int, Parsed]
) -> Iterator[int]:
    for index, edit in enumerate(edits):
        if time.monotonic() > deadline:
            return
        result = python_parse(_apply(text, edit), path)
        if result is not None:
            parsed[index] = result  # kept for the meaning checks
            yield index


def _javascript_valid(
    text: str, edits: list[Edit], path: Path, deadline: float, checker: Checker
) -> Iterator[int]:
    first_valid = getattr(checker, "first_valid", None)
    offset = 0
    while offset < len(edits):
        left = deadline - time.monotonic()
        if left <= 0:
            return
        batch = edits[offset : offset + JS_BATCH]
        if first_valid is not None:
            index, tried = first_valid(path, text, [list(e) for e in batch], limit_s=left)
        else:  # any checker: one candidate at a time
            index, tried = None, 0
            for k, edit in enumerate(batch):
                tried = k + 1
                if checker.check_source(path, _apply(text, edit).encode("utf-8")) is None:
                    index = k
                    break
        if index is None:
            if tried < len(batch):
                return  # node ran out of time
            offset += len(batch)
            continue
        yield offset + index
        offset += index + 1


def search(
    text: str,
    finding: Finding,
    checker: Checker,
    path: Path,
    *,
    static: bool = True,
    budget_seconds: float = 2.0,
    accept: Callable[[str], bool] | None = None,
) -> str | None:
    """The whole fixed text, differing from `text` only by a small edit near the
    error (or, for two faults apart, one near each), or None when no such edit parses
    (and adds no static error) in time.

    Candidates are tried in rank order; with `accept` (the scope-and-meaning guard
    every rung's candidate passes), the first valid one it accepts is returned, and
    None means no candidate was accepted."""
    if finding.kind != "syntax" or finding.language not in LANGUAGES or not text:
        return None
    deadline = time.monotonic() + budget_seconds
    return _search(text, finding, checker, path, static, deadline, accept, second=False)


def _search(
    text: str,
    finding: Finding,
    checker: Checker,
    path: Path,
    static: bool,
    deadline: float,
    accept: Callable[[str], bool] | None,
    *,
    second: bool,
) -> str | None:
    edits = _candidates(text, finding, deadline)
    if edits is None:
        return None
    parsed: dict[int, Parsed] = {}
    if finding.language == "python":
        valid = _python_valid(text, edits, path, deadline, parsed)
    else:
        valid = _javascript_valid(text, edits, path, deadline, checker)
    for index in valid:
        fixed = _apply(text, edits[index])
        tree = parsed.pop(index, None)
        if _acceptable(
            finding.language, text, fixed, edits[index], path, checker, static, accept, tree
        ):
            return fixed
    if second:
        return None
    # Two faults apart (`if n < 2` and, further down, `print "few"`): a likely edit
    # that moves the error further down fixes the first; the rest of the budget goes
    # to the second, and the pair is judged like any other fix.
    for edit in edits[:SECOND_FAULT_FROM]:
        if time.monotonic() > deadline:
            return None
        partial = _apply(text, edit)
        later = checker.check_source(path, partial.encode("utf-8"))
        if later is None or later.kind != "syntax" or (later.line or 0) <= (finding.line or 0):
            continue
        both_fixed = _search(partial, later, checker, path, static, deadline, None, second=True)
        if both_fixed is not None and _acceptable(
            finding.language, text, both_fixed, edit, path, checker, static, accept
        ):
            return both_fixed
    return None


def _candidates(text: str, finding: Finding, deadline: float) -> list[Edit] | None:
    """The ranked edits that are plausible fixes, or None (out of time, or a fault
    whose fix the layout cannot show)."""
    try:
        generator = Generator(text, finding, deadline)
        human.propose(generator)  # the idioms people's fixes follow, ranked first
        edits = generator.generate()
        if generator.refuse is not None:
            return None
        structure = Structure(generator)
        kept = []
        for edit in edits:
            generator.tick()
            if implausible(generator, structure, edit) is None:
                kept.append(edit)
        return kept
    except OutOfTime:
        return None  # the budget is spent: the file goes on to the model or a person


def _acceptable(
    language: str,
    text: str,
    fixed: str,
    edit: Edit,
    path: Path,
    checker: Checker,
    static: bool,
    accept: Callable[[str], bool] | None,
    parsed: Parsed | None = None,
) -> bool:
    if meaning_refusal(language, text, fixed, edit, path, checker, static=static, parsed=parsed):
        return False
    if static and _adds_static_error(language, text, fixed, path, checker):
        return False
    return accept is None or accept(fixed)


def _adds_static_error(
    language: str, before: str, after: str, path: Path, checker: Checker
) -> bool:
    from mechanic.detect.static import new_static_errors

    return bool(new_static_errors(language, before, after, path, checker=checker))
