"""One checker per language behind one interface, chosen by file extension.

A `CheckerSet` lives for one cycle: it creates each checker on first use (so a
tree without JavaScript never starts node) and closes them all at the end.
"""

from __future__ import annotations

from pathlib import Path

from mechanic.detect.checkers.base import Checker, Finding
from mechanic.detect.checkers.data import JSONChecker, TOMLChecker
from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.checkers.redacting import RedactingChecker
from mechanic.detect.checkers.shell import ShellChecker

__all__ = ["Checker", "CheckerSet", "Finding", "language_of"]

_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "python": PythonChecker.extensions,
    "javascript": (".js", ".mjs", ".cjs"),
    "shell": ShellChecker.extensions,
    "json": JSONChecker.extensions,
    "toml": TOMLChecker.extensions,
}
_LANGUAGE_OF = {ext: lang for lang, exts in _BY_LANGUAGE.items() for ext in exts}


def language_of(path: Path | str) -> str | None:
    """The language mechanic checks `path` as, or None if it has no checker."""
    name = path if isinstance(path, str) else path.name
    dot = name.rfind(".")
    return _LANGUAGE_OF.get(name[dot:].lower()) if dot > 0 else None


class CheckerSet:
    def __init__(self, *, node: str | None = None) -> None:
        self._node = node
        self._checkers: dict[str, Checker] = {}

    def get(self, language: str) -> Checker:
        checker = self._checkers.get(language)
        if checker is None:
            checker = self._create(language)
            self._checkers[language] = checker
        return checker

    def for_path(self, path: Path) -> Checker | None:
        language = language_of(path)
        return self.get(language) if language else None

    def _create(self, language: str) -> Checker:
        return RedactingChecker(self._bare(language))

    def _bare(self, language: str) -> Checker:
        if language == "python":
            return PythonChecker()
        if language == "javascript":
            from mechanic.detect.checkers.javascript import JavaScriptChecker

            return JavaScriptChecker(node=self._node)
        if language == "shell":
            return ShellChecker()
        if language == "json":
            return JSONChecker()
        if language == "toml":
            return TOMLChecker()
        raise KeyError(language)

    def close(self) -> None:
        for checker in self._checkers.values():
            checker.close()
        self._checkers.clear()

    def __enter__(self) -> CheckerSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
