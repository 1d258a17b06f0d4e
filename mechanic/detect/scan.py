"""Finding broken files: walk the watch roots, check what may have changed.

A file whose size and mtime match its last clean check is not opened at all; a
file whose bytes hash the same as its last clean check is not checked again.
Only the rest reach a checker, and JavaScript goes to one node process in a
single batch.

Static errors (undefined names, mechanic/detect/static.py) are looked for in files that
parse and whose content mechanic has seen change: a file it judged before under
another content, or one it flagged last time. A file seen for the first time is
the baseline and is not analysed: library code is full of names pyflakes cannot
see defined (833 in 1,495 stdlib files), and analysing every file would make a
cold scan several times slower (see README, "Static errors").
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from mechanic.detect import static
from mechanic.detect.checkers import CheckerSet, python2
from mechanic.detect.checkers.base import Checker, Finding
from mechanic.detect.discovery import Finder, WatchedFile
from mechanic.errors import CheckerUnavailable
from mechanic.files.hashing import sha256
from mechanic.files.userfile import read_regular
from mechanic.store import FileState, Store
from mechanic.write.textfile import NotText, decode

log = structlog.get_logger("mechanic.scan")


@dataclass
class ScanResult:
    files: list[WatchedFile] = field(default_factory=list)
    checked: int = 0
    findings: dict[Path, Finding] = field(default_factory=dict)  # by resolved path
    skipped: dict[Path, str] = field(default_factory=dict)  # files not judged, and why
    unavailable: dict[str, str] = field(default_factory=dict)  # language -> why

    def file(self, real: Path) -> WatchedFile | None:
        return next((f for f in self.files if f.real == real), None)


def scan(
    finder: Finder,
    checkers: CheckerSet,
    store: Store,
    *,
    max_file_bytes: int,
    only: set[Path] | None = None,
) -> ScanResult:
    """Judge every watched file, or only those among the paths in `only`."""
    result = ScanResult()
    known = store.file_states()
    dialects = {Path(os.path.realpath(w.path)): w.python for w in finder.config.watches}
    signatures: dict[str, str | None] = {}
    pending: dict[str, list[tuple[WatchedFile, str, bool]]] = defaultdict(list)
    unchanged: list[FileState] = []

    # A targeted check stats just the files named, never walking the roots.
    for watched in finder.files() if only is None else finder.only(only):
        result.files.append(watched)
        language = watched.language
        if language not in signatures:
            signatures[language] = _signature(checkers, language, result)
        signature = signatures[language]
        if signature is None:
            continue
        if language == "python" and dialects.get(watched.root) == "2":
            # Its clean verdicts mean "Python 3 or Python 2": not trusted under another setting.
            signature += PYTHON2_ALLOWED
        state = known.get(str(watched.real))
        trusted = state is not None and state.clean and state.signature == signature
        stat_same = state is not None and (state.size, state.mtime_ns) == (
            watched.size,
            watched.mtime_ns,
        )
        if trusted and stat_same:
            continue
        if watched.size > max_file_bytes:
            result.skipped[watched.real] = (
                f"larger than max_file_kb ({watched.size // 1024} KiB); not checked"
            )
            continue
        try:
            data = read_regular(watched.real)
        except OSError as exc:
            result.skipped[watched.real] = f"unreadable: {exc.strerror or exc}"
            continue
        if _binary(data):
            result.skipped[watched.real] = "binary content (NUL bytes); not checked"
            continue
        digest = sha256(data)
        if trusted and state is not None and state.sha256 == digest:
            # Touched but not changed: remember the new stat, skip the check.
            unchanged.append(_state(watched, digest, signature, clean=True))
            continue
        # Content mechanic saw change (or flagged before) gets static analysis too.
        seen_change = state is not None and (state.sha256 != digest or not state.clean)
        pending[language].append((watched, digest, seen_change))

    states = unchanged
    good: list[tuple[str, str, bytes]] = []
    for language, batch in pending.items():
        checker = checkers.get(language)
        try:
            verdicts = checker.check_files([w.real for w, _, _ in batch])
        except CheckerUnavailable as exc:
            result.unavailable[language] = str(exc)
            continue
        for watched, digest, seen_change in batch:
            if watched.real not in verdicts:
                result.skipped[watched.real] = "could not be read by its checker"
                continue
            finding = verdicts[watched.real]
            if finding is None and seen_change and language in static.LANGUAGES:
                finding = _static_finding(watched, checker)
            dialect = dialects.get(watched.root, "auto")
            if finding is not None and language == "python" and dialect != "3":
                finding = _python2(watched, finding, told=dialect == "2")
            result.checked += 1
            if finding is not None:
                result.findings[watched.real] = finding
            elif (kept := _read_if(watched.real, digest)) is not None:
                good.append((str(watched.real), digest, kept))
            signature = signatures[language] or ""
            if language == "python" and dialects.get(watched.root) == "2":
                signature += PYTHON2_ALLOWED
            states.append(_state(watched, digest, signature, clean=finding is None))
    store.save_file_states(states)
    # The last version that passed: where a later fault most likely is, and what
    # `mechanic restore` brings back.
    store.save_good_versions(good)
    return result


PYTHON2_ALLOWED = " + python 2 allowed"


def _python2(watched: WatchedFile, finding: Finding, *, told: bool) -> Finding | None:
    """The finding as it stands once Python 2 is considered (mechanic/detect/checkers/python2.py):
    held with the reason when the file is written in Python 2, gone when the watch
    says it is Python 2 (`python = "2"`) and it is consistently so."""
    if finding.kind != "syntax":
        return finding
    try:
        source = read_regular(watched.real)
    except OSError:
        return finding
    try:
        reading = python2.read(source) if python2.worth_reading(source, finding.line) else None
    except Exception:  # the re-read is a bonus: a bug in it must never stop the scan
        log.exception("python2.crashed", file=str(watched.real))
        return finding
    reason = reading.verdict(told=told) if reading is not None else None
    if reason is None or reading is None:
        return finding
    if told and reading.remaining is None:
        return None  # consistently Python 2, as the watch says its files are
    line = reading.remaining_line or reading.first_line or finding.line
    column = finding.column if line == finding.line else None
    return Finding(finding.path, finding.language, line, column, reason, kind="dialect")


def _binary(data: bytes) -> bool:
    # NUL bytes mean binary, except in UTF-16/32 text, which starts with a BOM.
    return b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff"))


def _read_if(path: Path, digest: str) -> bytes | None:
    """The file's bytes if they are still the ones that were checked."""
    try:
        data = read_regular(path)
    except OSError:
        return None
    return data if sha256(data) == digest else None


def _signature(checkers: CheckerSet, language: str, result: ScanResult) -> str | None:
    # A clean verdict also vouches for static analysis: a new analysis, a new signature.
    try:
        signature = checkers.get(language).signature()
    except CheckerUnavailable as exc:
        result.unavailable[language] = str(exc)
        return None
    extra = static.signature(language)
    return f"{signature} + {extra}" if extra else signature


def _static_finding(watched: WatchedFile, checker: Checker) -> Finding | None:
    """The first static error in a file that parses, or None."""
    try:
        text, _ = decode(read_regular(watched.real), watched.language)
    except (OSError, NotText):
        return None
    try:
        found = static.static_findings(watched.language, text, watched.real, checker=checker)
    except CheckerUnavailable:
        return None
    except Exception:  # analysis is a bonus: a bug in it must never stop the scan
        log.exception("static.crashed", file=str(watched.real))
        return None
    return found[0] if found else None


def _state(watched: WatchedFile, digest: str, signature: str, *, clean: bool) -> FileState:
    return FileState(
        path=str(watched.real),
        size=watched.size,
        mtime_ns=watched.mtime_ns,
        sha256=digest,
        signature=signature,
        clean=clean,
        checked_at=time.time(),
    )
