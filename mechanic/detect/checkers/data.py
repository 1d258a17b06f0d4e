"""Data files: JSON and TOML, with the standard library's parsers."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

from mechanic.detect.checkers.base import Checker, Finding

_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _text(path: Path, language: str, source: bytes) -> tuple[str | None, Finding | None]:
    try:
        return source.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, Finding(path, language, None, None, f"not UTF-8 text (byte {exc.start})")


class JSONChecker(Checker):
    language = "json"
    extensions = (".json",)

    def signature(self) -> str:
        return f"json python {sys.version.split()[0]}"

    def check_source(self, path: Path, source: bytes) -> Finding | None:
        text, problem = _text(path, self.language, source)
        if problem or text is None:
            return problem
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return Finding(path, self.language, exc.lineno, exc.colno, exc.msg)
        return None


class TOMLChecker(Checker):
    language = "toml"
    extensions = (".toml",)

    def signature(self) -> str:
        return f"tomllib python {sys.version.split()[0]}"

    def check_source(self, path: Path, source: bytes) -> Finding | None:
        text, problem = _text(path, self.language, source)
        if problem or text is None:
            return problem
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            message = str(exc)
            match = _TOML_AT.search(message)
            line = int(match.group(1)) if match else None
            column = int(match.group(2)) if match else None
            return Finding(path, self.language, line, column, _TOML_AT.sub("", message).strip())
        return None
