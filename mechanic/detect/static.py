"""Static errors: code that parses but names something that does not exist.

Python: pyflakes' undefined-name messages only (undefined names, undefined names in
`__all__`, locals used before assignment), never its style warnings.
JavaScript: references to names declared nowhere in the file and not a known node or
browser global, found by acorn in the checker's node process (js_check.cjs).

Two uses. `static_findings` turns them into findings (kind "static"), and
`new_static_errors` tells whether a fix adds one. The comparison is by message, which
names the name, never by line, since a fix shifts lines. Errors that were already
there are ignored, as SWE-agent learned to do: an old error must not block every fix.
"""

from __future__ import annotations

import ast
import atexit
import threading
import warnings
from collections import Counter
from pathlib import Path

import pyflakes
from pyflakes import checker as pyflakes_checker
from pyflakes import messages as pyflakes_messages

from mechanic.detect.checkers.base import Checker, Finding
from mechanic.repair.rungs.deterministic.tokens import identifier_counts

# Bump when what counts as a static error changes: the scan cache is keyed on it.
STATIC_REVISION = 1
LANGUAGES = ("python", "javascript")

_UNDEFINED = (
    pyflakes_messages.UndefinedName,
    pyflakes_messages.UndefinedExport,
    pyflakes_messages.UndefinedLocal,
)

_shared_js: Checker | None = None
_shared_lock = threading.Lock()


def signature(language: str) -> str:
    """Part of the scan cache's signature: changes when static verdicts could change."""
    if language == "python":
        return f"static/{STATIC_REVISION} pyflakes {pyflakes.__version__}"
    if language == "javascript":
        return f"static/{STATIC_REVISION}"
    return ""


def _python_errors(
    text: str, path: Path, tree: ast.Module | None = None
) -> list[tuple[str, int | None, int | None]] | None:
    found = _python_errors_of(text, str(path), tree)
    return None if found is None else list(found)


# One candidate is judged by the meaning guard, the zero-token rung's own check and
# static.refusal: pyflakes ran three times over the same text, about 2.5 s each on
# a 40,000-line file. A pure function of the text, so the last few verdicts are kept.
_MEMO_SIZE = 4
_memo: dict[tuple[str, str], tuple[tuple[str, int | None, int | None], ...] | None] = {}
_memo_lock = threading.Lock()


def _python_errors_of(
    text: str, path: str, tree: ast.Module | None = None
) -> tuple[tuple[str, int | None, int | None], ...] | None:
    key = (text, path)
    with _memo_lock:
        if key in _memo:
            return _memo[key]
    found = _pyflakes(text, path, tree)
    with _memo_lock:
        _memo[key] = found
        while len(_memo) > _MEMO_SIZE:
            del _memo[next(iter(_memo))]
    return found


def _pyflakes(
    text: str, path: str, tree: ast.Module | None
) -> tuple[tuple[str, int | None, int | None], ...] | None:
    if tree is None:  # a caller that just parsed `text` passes its tree: one parse, not two
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text, path)
        except (SyntaxError, ValueError, RecursionError):
            return None
    try:
        found = pyflakes_checker.Checker(tree, filename=path)
    except RecursionError:  # absurdly nested code: no verdict rather than a crash
        return None
    errors = []
    for message in sorted(found.messages, key=lambda m: (m.lineno, m.col)):
        if isinstance(message, _UNDEFINED):
            errors.append((message.message % message.message_args, message.lineno, message.col + 1))
    return tuple(errors)


def _javascript_errors(
    text: str, path: Path, checker: Checker | None
) -> list[tuple[str, int | None, int | None]] | None:
    js = checker if checker is not None and hasattr(checker, "undeclared") else _shared_checker()
    names = js.undeclared(path, text)  # type: ignore[attr-defined]
    if names is None:
        return None
    return [(f"'{name}' is not defined", line, column) for name, line, column in names]


def _shared_checker() -> Checker:
    # For callers without a checker at hand: one node process for this Python process.
    global _shared_js
    with _shared_lock:
        if _shared_js is None:
            from mechanic.detect.checkers.javascript import JavaScriptChecker

            _shared_js = JavaScriptChecker()
            atexit.register(_shared_js.close)
        return _shared_js


def static_errors(
    language: str,
    text: str,
    path: Path,
    *,
    checker: Checker | None = None,
    tree: ast.Module | None = None,
) -> list[tuple[str, int | None, int | None]] | None:
    """(message, line, column) of every static error in `text`; None when it does not
    parse (or the language has no static analysis). `tree`: `ast.parse(text, path)`,
    when the caller has it (a Python text is then not parsed again)."""
    if language == "python":
        return _python_errors(text, path, tree)
    if language == "javascript":
        return _javascript_errors(text, path, checker)
    return None


def static_findings(
    language: str, text: str, path: Path, *, checker: Checker | None = None
) -> list[Finding]:
    """Static errors in `text` as findings (kind "static"), in file order."""
    errors = static_errors(language, text, path, checker=checker) or []
    return [
        Finding(path, language, line, column, message, kind="static")
        for message, line, column in errors
    ]


def _name_in(message: str) -> str | None:
    start = message.find("'")
    end = message.find("'", start + 1)
    return message[start + 1 : end] if 0 <= start < end else None


def new_static_errors(
    language: str, before: str, after: str, path: Path, *, checker: Checker | None = None
) -> list[str]:
    """Messages of static errors in `after` that `before` did not have (empty: none new).

    Compared as multisets of messages, so a fix that only moves lines adds nothing.
    When `before` does not parse (a syntax fix), its errors cannot be listed; then a
    name's errors are new only if the fix made that name occur more often as code
    (turning a string's words into code, say), and old otherwise.
    """
    after_errors = static_errors(language, after, path, checker=checker)
    if not after_errors:
        return []
    after_messages = Counter(message for message, _, _ in after_errors)
    before_errors = static_errors(language, before, path, checker=checker)
    if before_errors is not None:
        extra = after_messages - Counter(message for message, _, _ in before_errors)
        return sorted(extra.elements())
    before_names = identifier_counts(before, language)
    after_names = identifier_counts(after, language)
    new = []
    for message, count in after_messages.items():
        name = _name_in(message)
        if name is None or after_names.get(name, 0) > before_names.get(name, 0):
            new.extend([message] * count)
    return sorted(new)


def refusal(
    finding: Finding, before: str, after: str, path: Path, *, checker: Checker | None = None
) -> str | None:
    """Why a fix for `finding` must not be applied on static grounds, or None: it adds
    a static error, or (for a static finding) it leaves the error it was asked to fix."""
    if finding.language not in LANGUAGES:
        return None
    new = new_static_errors(finding.language, before, after, path, checker=checker)
    if new:
        shown = "; ".join(dict.fromkeys(new))
        return f"the fix adds a static error ({shown}); the original is kept"
    if finding.kind == "static":
        remaining = static_errors(finding.language, after, path, checker=checker) or []
        still = sum(message == finding.message for message, _, _ in remaining)
        was = sum(
            message == finding.message
            for message, _, _ in static_errors(finding.language, before, path, checker=checker)
            or []
        )
        if still and still >= was:
            return f"the fix leaves the error it was asked to fix ({finding.message})"
    return None
