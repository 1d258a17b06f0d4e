"""Where a fault most likely is, beyond what the parser says, and which broken
files must not be patched at all.

mechanic keeps the last version of every file that passed its check (the
store's good_versions); in a git repository, HEAD is a second reference. The
lines that changed since then are where the fault most likely is. Two kinds of
broken file are left to a person: one that ends early (much shorter than its
last good version, the error at its end: a truncated write, not a typo), and
one holding merge-conflict markers. Patching either into something that parses
would hide the real problem.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from mechanic.detect.checkers.base import Finding
from mechanic.files import linediff
from mechanic.store import Store

log = structlog.get_logger("mechanic.localize")

# A file shorter than this share of its last good version, broken at its end, was cut off.
TRUNCATED_SHARE = 0.7
END_LINES = 3  # "at its end": the error within this many lines of the last one
GIT_TIMEOUT_S = 5.0
_CONFLICT = tuple(re.compile(p, re.M) for p in (r"^<{7}(?: |$)", r"^={7}$", r"^>{7}(?: |$)"))
_EOF_ERROR = re.compile(r"end of input|EOF|was never closed|unterminated|Unterminated", re.I)


@dataclass(frozen=True)
class Baseline:
    text: str
    source: str  # "last good version" or "git HEAD"


def git_head_version(path: Path) -> bytes | None:
    """The file as committed at HEAD, or None (not in a repository, not
    committed, or git missing)."""
    try:
        top = subprocess.run(
            ["git", "-C", str(path.parent), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
        if top.returncode != 0:
            return None
        rel = path.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
        shown = subprocess.run(
            ["git", "-C", top.stdout.strip(), "show", f"HEAD:{rel}"],
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return shown.stdout if shown.returncode == 0 else None


def baseline(
    store: Store, path: Path, decode_bytes: Callable[[bytes], str | None]
) -> Baseline | None:
    """The text to compare a broken file with: its last good version, else git HEAD."""
    found = store.good_version(str(path))
    if found is not None:
        text = decode_bytes(found[1])
        if text is not None:
            return Baseline(text, "last good version")
    head = git_head_version(path)
    if head is not None:
        text = decode_bytes(head)
        if text is not None:
            return Baseline(text, "git HEAD")
    return None


def changed_region(current: list[str], before: list[str]) -> tuple[int, int] | None:
    """First and last line (0-based, inclusive) of `current` that differ from
    `before`; None when nothing differs."""
    matcher = linediff.matcher(before, current)
    spans = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if j1 == j2:  # lines deleted: the line above the gap is where they belonged
            spans.append((max(j1 - 1, 0), max(j1 - 1, 0)))
        else:
            spans.append((j1, j2 - 1))
    if not spans:
        return None
    top = max(len(current) - 1, 0)
    return min(spans[0][0], top), min(max(s[1] for s in spans), top)


def conflict_markers(lines: list[str]) -> int | None:
    """The 1-based line of the first merge-conflict marker, when the file holds
    a complete set (<<<<<<<, =======, >>>>>>>)."""
    # One regex search per marker over the whole text (C speed), not three
    # matches per line in Python: a 1 MB file costs milliseconds.
    text = "\n".join(lines)
    found = [pattern.search(text) for pattern in _CONFLICT]
    if not all(found) or found[0] is None:
        return None
    return text.count("\n", 0, found[0].start()) + 1


def needs_a_person(text: str, finding: Finding, base: Baseline | None) -> tuple[str, str] | None:
    """(kind, reason) when the broken file must not be patched, else None."""
    lines = text.split("\n")
    marker = conflict_markers(lines)
    if marker is not None:
        return (
            "conflict",
            f"merge-conflict markers from line {marker}: resolve the merge by hand",
        )
    if base is None or finding.kind == "runtime":  # a file that crashed still parses
        return None
    have, had = len(text.strip()), len(base.text.strip())
    if not had or have >= TRUNCATED_SHARE * had:
        return None
    last = len(text.rstrip("\n").split("\n"))
    at_end = finding.line is None or finding.line >= last - END_LINES + 1
    if at_end or _EOF_ERROR.search(finding.message):
        return (
            "truncated",
            f"the file ends early: {have} characters against {had} in its {base.source},"
            " broken at its end; `mechanic restore` brings the last good version back",
        )
    return None


def focus_lines(
    lines: list[str], finding: Finding, base: Baseline | None, *, max_gap: int = 40
) -> tuple[list[int], str]:
    """0-based lines a block must cover, and a word on why: the error's line, a
    line the message points at ("on line N"), and the region changed since the
    baseline when it is small and near enough to be the cause."""
    n = max(len(lines), 1)
    focus: list[int] = []
    if finding.line is not None:
        focus.append(min(max(finding.line - 1, 0), n - 1))
    for mention in re.findall(r"on line (\d+)", finding.message):
        focus.append(min(max(int(mention) - 1, 0), n - 1))
    why = "the error's line"
    if base is not None:
        region = changed_region(lines, base.text.split("\n"))
        if region is not None and region[1] - region[0] <= max_gap:
            near = not focus or min(abs(f - region[0]) for f in focus) <= max_gap
            at_eof = not focus or _EOF_ERROR.search(finding.message) or max(focus) >= n - 2
            if near:
                focus += [region[0], region[1]]
                why = f"the error's line and the lines changed since the {base.source}"
            elif at_eof:
                # The parser stopped at the end; the change is where it went wrong.
                focus = [region[0], region[1]]
                why = f"the lines changed since the {base.source}"
    if not focus:
        focus = [n - 1]
    return focus, why
