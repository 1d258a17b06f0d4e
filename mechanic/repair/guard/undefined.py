"""The undefined-name rule: a name that resolves nowhere in the file as it will be."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from mechanic.detect import static
from mechanic.detect.checkers.base import Checker
from mechanic.errors import CheckerUnavailable
from mechanic.repair.baseline import Baseline
from mechanic.repair.guard.hunks import Refusal, name_in

# --- undefined names ------------------------------------------------------------------


def undefined(
    candidate: str,
    language: str,
    changed: set[int],
    baseline: Baseline | None,
    path: Path,
    checker: Checker | None,
    own: str | None,
) -> Refusal | None:
    """`own`: the name a static finding is about; whether the fix removed it is
    static.refusal's verdict, with its own reason."""
    try:
        after = static.static_errors(language, candidate, path, checker=checker)
        before = (
            static.static_errors(language, baseline.text, path, checker=checker)
            if baseline is not None
            else None
        )
    except CheckerUnavailable:
        return None
    if not after:
        return None
    if before is not None:
        new = Counter(m for m, _, _ in after) - Counter(m for m, _, _ in before)
        hits = [(m, line) for m, line, _ in after if new[m]]
    else:
        hits = [(m, line) for m, line, _ in after if line in changed]
    hits = [(m, line) for m, line in hits if own is None or name_in(m) != own]
    if hits:
        message, line = hits[0]
        return Refusal("undefined-name", f"{message} (line {line}) in the file as it would be")
    return None
