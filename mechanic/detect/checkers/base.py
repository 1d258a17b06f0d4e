"""The one interface every language checker implements, and what a check finds."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mechanic.files.userfile import read_regular


@dataclass(frozen=True)
class Finding:
    """A file that does not pass its language's checker, and where it breaks.

    `line` and `column` are 1-based; either may be None when the checker gives
    no location.
    """

    path: Path
    language: str
    line: int | None
    column: int | None
    message: str
    kind: str = "syntax"

    def where(self) -> str:
        if self.line is None:
            return str(self.path)
        if self.column is None:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"

    def describe(self) -> str:
        return f"{self.where()}: {self.message}"


class Checker(ABC):
    """Judges whether source text parses, the way its language's own tool does.

    A checker may hold a long-lived helper process; `close()` ends it. Checkers
    never write anything.
    """

    language: str = ""
    extensions: tuple[str, ...] = ()

    @abstractmethod
    def signature(self) -> str:
        """A string that changes when the checker's verdicts could change
        (tool name and version); cached clean verdicts are only trusted under
        the same signature."""

    @abstractmethod
    def check_source(self, path: Path, source: bytes) -> Finding | None:
        """Judge `source` as if it were the content of `path`.

        `path` matters for languages whose meaning depends on where the file
        lives (an ES module `.js` file in a package with "type": "module").
        Returns None when the source is valid.
        """

    def foreign_dialect(self, text: str) -> str | None:
        """Why `text` is written in a dialect this checker does not judge (JSX in
        a .js file, say), or None. A file in another dialect fails the check
        without being broken, so it must never be "repaired" into plain syntax."""
        return None

    def check_files(self, paths: Iterable[Path]) -> dict[Path, Finding | None]:
        """Judge files on disk; a checker with a faster batch path overrides this.

        Left out of the result: a path that cannot be read (vanished, no
        permission, or no longer a regular file); the caller sees it is not judged."""
        results: dict[Path, Finding | None] = {}
        for path in paths:
            try:
                source = read_regular(path)
            except OSError:
                continue
            results[path] = self.check_source(path, source)
        return results

    def close(self) -> None:
        """Release helper processes; the default checker holds none."""

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
