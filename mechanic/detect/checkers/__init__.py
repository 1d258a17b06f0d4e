"""One checker per language behind one interface, chosen by file extension.

A `CheckerSet` lives for one cycle: it creates each checker on first use (so a
tree without JavaScript never starts node) and closes them all at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mechanic.detect.checkers.base import Checker, Finding
from mechanic.detect.checkers.data import JSONChecker, TOMLChecker
from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.checkers.redacting import RedactingChecker
from mechanic.detect.checkers.shell import ShellChecker
from mechanic.registry import Registry

__all__ = ["CHECKERS", "Checker", "CheckerSet", "Finding", "language_of"]

# A factory per language, given the node binary to use (None: find one); the
# JavaScript checker's module is imported only when a tree has JavaScript.
CHECKERS: Registry[Callable[[str | None], Checker]] = Registry("checker")


@CHECKERS.register("python")
def _python(node: str | None) -> Checker:
    return PythonChecker()


@CHECKERS.register("javascript")
def _javascript(node: str | None) -> Checker:
    from mechanic.detect.checkers.javascript import JavaScriptChecker

    return JavaScriptChecker(node=node)


@CHECKERS.register("shell")
def _shell(node: str | None) -> Checker:
    return ShellChecker()


@CHECKERS.register("json")
def _json(node: str | None) -> Checker:
    return JSONChecker()


@CHECKERS.register("toml")
def _toml(node: str | None) -> Checker:
    return TOMLChecker()


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
        return RedactingChecker(CHECKERS.get(language)(self._node))

    def close(self) -> None:
        for checker in self._checkers.values():
            checker.close()
        self._checkers.clear()

    def __enter__(self) -> CheckerSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
