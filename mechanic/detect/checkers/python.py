"""Python: the interpreter's own compile(), in-process (no process per file)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

from mechanic.detect.checkers.base import Checker, Finding


class PythonChecker(Checker):
    language = "python"
    extensions = (".py", ".pyw")

    def signature(self) -> str:
        return f"python {sys.version.split()[0]}"

    def check_source(self, path: Path, source: bytes) -> Finding | None:
        # Bytes, not text: compile() then honours a PEP 263 coding declaration
        # and a BOM exactly as the interpreter would when importing the file.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarnings are not breakage
                compile(source, str(path), "exec", dont_inherit=True)
        except SyntaxError as exc:  # includes IndentationError and TabError
            name = type(exc).__name__
            column = exc.offset if exc.offset and exc.offset > 0 else None
            return Finding(path, self.language, exc.lineno, column, f"{name}: {exc.msg}")
        except (ValueError, UnicodeDecodeError) as exc:
            # NUL bytes or undecodable text: Python itself could not import it.
            return Finding(path, self.language, None, None, f"{type(exc).__name__}: {exc}")
        return None
