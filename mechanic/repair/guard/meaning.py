"""The meaning guard: a fix changes only what is broken, and means what the author meant.

Every rung's candidate (zero-token, memory, block, whole) passes `refusal` before the
transaction; a person's `mechanic restore` does not. A syntax fix adds, moves or
changes punctuation and a few operators (`=` for `==`, `not` for `!`) at the error.
A candidate that parses but does more (new code, lost words, other operators, a new
tuple, a name that resolves nowhere, text nobody needed) means something the author
did not write, and hides the fault from every check after it: it is refused, and the
reason names the rule. The rules (`RULES`):

- size: the file would be larger than max_file_kb.
- export: a top-level def/class, `__all__` entry, `module.exports`/`exports.X`/`export`
  name of the broken text is gone (dropped or renamed).
- added-code: new names, keywords or literals (an import, a call, a statement, a
  definition). Exceptions the error calls for: `pass` in an empty block, and an
  import/require of exactly the name a NameError/ReferenceError reports undefined.
- deleted-code: a keyword, name or operand the author wrote is gone.
- renamed: a name replaced by another (a misspelt keyword corrected is not a rename).
- region: a change outside the faulty region (the error's statement, the lines the
  last good version shows as changed). A whole-file answer is judged by its diff.
- condition: `:=` where the author wrote `=`; a test inverted (`!`/`not` dropped,
  `<` for `>`).
- operator: an operator dropped, added or changed other than the syntax fixes.
- tuple: a call, condition, return or statement turned into a tuple, a comma
  expression, an annotation (`print: total`) or a label that was not there.
- call: a closing bracket placed so that what followed the call's argument (`.format`,
  `(...)`, `[...]`) now applies to the call's result; a pair of brackets removed.
- indentation: an empty block "filled" by indenting the statement after it.
- undefined-name: a name undefined in the file as it will be (pyflakes; acorn's scope
  pass for JavaScript), judged against the last good version, else on changed lines.
- syntax-warning: Python warns about the changed code (`10(10)`: int is not callable).
- asi: JavaScript that only parses because a semicolon is inserted automatically
  where the edit made the statement end.
- bloat: more than ADDED_CHARS characters the broken text did not need (a comment
  essay, a junk line).

Everything here is a pure function of the texts, the finding and the baseline (plus
node's parse, through the JavaScript checker, for comma expressions and ASI).
"""

from __future__ import annotations

from pathlib import Path

from mechanic.detect.checkers.base import Checker, Finding
from mechanic.repair.baseline import Baseline
from mechanic.repair.guard.exports import exports
from mechanic.repair.guard.hunks import LANGUAGES, Refusal, diff_hunks, name_in
from mechanic.repair.guard.javascript import javascript_shape
from mechanic.repair.guard.python import python_indentation, python_tuples, python_warnings
from mechanic.repair.guard.region import Region, changed_new_lines, without_requested_import
from mechanic.repair.guard.undefined import undefined
from mechanic.repair.guard.words import bloat, bloat_lines, early_close, operators, words
from mechanic.repair.rungs.deterministic.tokens import (
    tokenize,
)

RULES = (
    "size",
    "export",
    "added-code",
    "deleted-code",
    "renamed",
    "region",
    "condition",
    "operator",
    "tuple",
    "call",
    "indentation",
    "undefined-name",
    "syntax-warning",
    "asi",
    "bloat",
)


def refusal(
    broken: str,
    candidate: str,
    *,
    language: str,
    finding: Finding,
    baseline: Baseline | None,
    max_file_kb: int,
    path: Path | None = None,
    checker: Checker | None = None,
) -> str | None:
    """Why `candidate` must not replace `broken` as a fix for `finding`, naming the
    rule (see the module docstring); None when it may go on to the transaction."""
    found = judge(
        broken,
        candidate,
        language=language,
        finding=finding,
        baseline=baseline,
        max_file_kb=max_file_kb,
        path=path or finding.path,
        checker=checker,
    )
    return None if found is None else str(found)


def judge(
    broken: str,
    candidate: str,
    *,
    language: str,
    finding: Finding,
    baseline: Baseline | None,
    max_file_kb: int,
    path: Path,
    checker: Checker | None = None,
) -> Refusal | None:
    """`refusal` as a Refusal (rule and detail), for callers that branch on the rule."""
    size = len(candidate.encode("utf-8", "surrogatepass"))
    if size > max_file_kb * 1024 and size > len(broken.encode("utf-8", "surrogatepass")):
        return Refusal(
            "size", f"the fix makes the file {size // 1024} KiB, over max_file_kb ({max_file_kb})"
        )
    code = language if language in LANGUAGES else None
    judged, _ = without_requested_import(broken, candidate, code, finding)
    region = Region(broken, finding, baseline)
    if code is not None:
        old_tokens, new_tokens = tokenize(broken, code), tokenize(judged, code)
        for check in (exports,):
            if found := check(old_tokens, new_tokens, broken, judged, code):
                return found
        hunks = diff_hunks(old_tokens, new_tokens)
        if found := words(hunks, code, finding):
            return found
    if found := region.outside(broken, judged, finding):
        return found
    if code is None:
        return bloat_lines(broken, judged)
    if found := operators(hunks, code, broken):
        return found
    if found := early_close(hunks, new_tokens):
        return found
    if found := bloat(hunks):
        return found
    changed = changed_new_lines(broken, candidate)
    checks: tuple[Refusal | None, ...]
    if code == "python":
        checks = (
            python_tuples(hunks, judged),
            python_indentation(broken, judged, finding),
            python_warnings(candidate, changed, baseline, path),
        )
    else:
        checks = (javascript_shape(hunks, judged, new_tokens, path, checker),)
    for found in checks:
        if found:
            return found
    own = name_in(finding.message) if finding.kind == "static" else None
    return undefined(candidate, code, changed, baseline, path, checker, own)
