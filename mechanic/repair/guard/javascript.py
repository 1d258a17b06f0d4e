"""JavaScript-only rules: comma expressions, labels and ASI (through node's parse)."""

from __future__ import annotations

import bisect
from pathlib import Path

from mechanic.detect.checkers.base import Checker
from mechanic.errors import CheckerUnavailable
from mechanic.repair.guard.hunks import Hunk, Refusal
from mechanic.repair.rungs.deterministic.tokens import (
    Token,
)

# --- JavaScript -----------------------------------------------------------------------


def javascript_shape(
    hunks: list[Hunk], candidate: str, tokens: list[Token], path: Path, checker: Checker | None
) -> Refusal | None:
    shape = getattr(checker, "shape", None)
    if shape is None:
        return None
    try:
        found = shape(path, candidate)
    except CheckerUnavailable:
        return None
    if found is None:
        return None
    commas, asi = found
    new_commas = {t.start for hunk in hunks for t in hunk.new if t.text == ","}
    new_commas |= {t.start for hunk in hunks for t in hunk.new if t.text == ":"}
    for comma in commas:
        if comma in new_commas:
            line = candidate.count("\n", 0, comma) + 1
            what = "a label" if candidate[comma] == ":" else "a comma expression"
            return Refusal("tuple", f"it turns the code at line {line} into {what}")
    changed = {t.start for hunk in hunks for t in hunk.new}
    deleted_at = {hunk.new_at for hunk in hunks if hunk.old and not hunk.new}
    starts = [t.start for t in tokens]
    for point in asi:
        k = bisect.bisect_left(starts, point)  # the token after the inserted semicolon
        prev = tokens[k - 1] if k else None
        nxt = tokens[k] if k < len(tokens) else None
        # Tokens removed right there, or a `return` now cut from what followed it:
        # semicolon-free code that ends a line where it always did is left alone.
        removed = nxt is not None and nxt.start in deleted_at
        cut = (
            prev is not None
            and prev.text in ("return", "throw", "yield", "break", "continue")
            and nxt is not None
            and (nxt.start in changed or prev.start in changed)
        )
        if removed or cut:
            line = candidate.count("\n", 0, point) + 1
            return Refusal(
                "asi",
                f"it only parses because a semicolon is inserted automatically at line {line},"
                " which ends the statement the author wrote",
            )
    return None
