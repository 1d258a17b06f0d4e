"""Every checker is wrapped in this: a checker's message never quotes a secret.

Parsers quote the code they stumble on (node: `Unexpected identifier
'abcdEFGH1234ijklMNOP'` for an unquoted bearer token), and a finding's message
goes everywhere: the log, the store, `--json`, alerts and the prompt's ERROR
line. So the message is scrubbed here, at the one door every check goes
through (`CheckerSet`), of the secrets the checked source itself holds (see
mechanic/redact.py for what counts as one).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mechanic.detect.checkers.base import Checker, Finding
from mechanic.files.userfile import read_regular
from mechanic.redact import scrub, secret_values

_WORD = re.compile(r"[\w\-.~+/=]{3,}")
_CONTEXT_LINES = 3


def scrubbed(finding: Finding, source: bytes) -> Finding:
    """`finding` with every secret of `source` that it quotes (and every secret
    shape) masked."""
    message = scrub(finding.message, _quoted_secrets(finding.message, source))
    return finding if message == finding.message else dataclasses.replace(finding, message=message)


def _quoted_secrets(message: str, source: bytes) -> set[str]:
    # The secrets around each place the source holds a word of the message: a
    # failed check costs a few lines of secret search, not the whole file's
    # (the zero-token rung checks hundreds of candidates).
    text = source.decode("utf-8", errors="replace")
    lines = text.split("\n")
    secrets: set[str] = set()
    for word in set(_WORD.findall(message)):
        at = text.find(word)
        for _ in range(20):  # the first places are enough: a secret is one value
            if at < 0:
                break
            line = text.count("\n", 0, at)
            around = "\n".join(lines[max(0, line - _CONTEXT_LINES) : line + _CONTEXT_LINES + 1])
            secrets |= {value for value in secret_values(around) if word in value}
            at = text.find(word, at + len(word))
    return secrets


class RedactingChecker(Checker):
    def __init__(self, inner: Checker) -> None:
        self.inner = inner
        self.language = inner.language
        self.extensions = inner.extensions

    def signature(self) -> str:
        return self.inner.signature()

    def check_source(self, path: Path, source: bytes) -> Finding | None:
        finding = self.inner.check_source(path, source)
        return None if finding is None else scrubbed(finding, source)

    def check_files(self, paths: Iterable[Path]) -> dict[Path, Finding | None]:
        verdicts = self.inner.check_files(paths)
        for path, finding in verdicts.items():
            if finding is not None:
                verdicts[path] = self._scrub_from_disk(path, finding)
        return verdicts

    @staticmethod
    def _scrub_from_disk(path: Path, finding: Finding) -> Finding:
        try:
            source = read_regular(path)
        except OSError:  # gone since: no source, so mask the shapes alone
            return dataclasses.replace(finding, message=scrub(finding.message))
        return scrubbed(finding, source)

    def foreign_dialect(self, text: str) -> str | None:
        return self.inner.foreign_dialect(text)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # What a checker has beyond the interface (the JS checker's scope pass) is the inner's.
        return getattr(self.inner, name)
