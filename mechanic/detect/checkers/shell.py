"""Shell scripts: `bash -n`, the authority (tree-sitter-bash misreads valid scripts)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from mechanic.detect.checkers.base import Checker, Finding
from mechanic.errors import CheckerUnavailable

_LINE = re.compile(r"line (\d+): (.*)")


class ShellChecker(Checker):
    language = "shell"
    extensions = (".sh", ".bash")

    def __init__(self, bash: str | None = None) -> None:
        self._bash = bash or shutil.which("bash")
        self._version: str | None = None

    def _require(self) -> str:
        if not self._bash or not os.access(self._bash, os.X_OK):
            raise CheckerUnavailable(
                f"bash not found ({self._bash or 'not on PATH'}); shell scripts cannot be checked"
            )
        return self._bash

    def signature(self) -> str:
        if self._version is None:
            out = subprocess.run(
                [self._require(), "--version"], capture_output=True, text=True, check=False
            )
            self._version = out.stdout.splitlines()[0] if out.stdout else "bash"
        return self._version

    def check_source(self, path: Path, source: bytes) -> Finding | None:
        # bash reads the script from stdin with -n, so the bytes judged are
        # exactly the ones given, whatever is on disk.
        result = subprocess.run(
            [self._require(), "-n"], input=source, capture_output=True, check=False, timeout=30
        )
        if result.returncode == 0:
            return None
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        first = lines[0] if lines else f"bash -n exited {result.returncode}"
        match = _LINE.search(first)
        if match:
            return Finding(path, self.language, int(match.group(1)), None, match.group(2).strip())
        return Finding(path, self.language, None, None, first)
