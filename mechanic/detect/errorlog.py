"""Runtime errors from logs: [[errorlog]] files tailed into findings.

Each cycle reads what was appended to the configured logs since the last one
(offsets live in the store, keyed by device and inode, so every line is read
once: a log renamed by rotation keeps its place, its unread tail is finished,
and a truncated or replaced one is read again from its start). Tracebacks and
stack traces (mechanic/detect/tracebacks.py) that point at a watched, unprotected
file become `Finding(kind="runtime")` at the innermost frame in that file,
deduplicated by signature: error type, message with numbers and addresses
blanked, file and function.

A runtime error stays a finding until the file it points at changes: then it
counts as addressed, unless it shows up in the log again.
"""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from mechanic.config.policy import DEFAULT_RUNTIME_ERRORS
from mechanic.config.settings import Config, ErrorLog
from mechanic.detect.checkers.base import Finding
from mechanic.detect.discovery import Finder, WatchedFile
from mechanic.detect.tracebacks import Frame, Trace, clean_lines, normalise_message, parse
from mechanic.files.hashing import sha256, sha256_file
from mechanic.files.tail import OpenLog, Position
from mechanic.files.userfile import open_regular
from mechanic.store import LogOffset, RuntimeErrorRecord, Store

if TYPE_CHECKING:
    from mechanic.detect.scan import ScanResult

log = structlog.get_logger("mechanic.errorlog")

FIRST_READ_BYTES = 1 << 20  # a log seen for the first time: only its last MiB
MAX_READ_BYTES = 8 << 20  # per file per cycle; a flood beyond this is skipped
SETTLE_SECONDS = 2.0  # a trace at the end of a log written this recently may grow
# Errors that say a file does not parse: only ever the fault of the file they name.
SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")


@dataclass(frozen=True)
class Occurrence:
    """One trace read from one log."""

    log_path: str
    trace: Trace
    log_mtime: float  # the trace was written no later than this
    errorlog: ErrorLog | None  # the [[errorlog]] table it was read for


@dataclass
class RuntimeStep:
    """What the runtime-error step of a cycle saw."""

    findings: dict[Path, Finding] = field(default_factory=dict)  # active, by resolved path
    errors: list[RuntimeErrorRecord] = field(default_factory=list)  # active, one per finding
    read_logs: int = 0
    new_traces: int = 0
    ignored: int = 0  # traces pointing at no watched file, protected ones, other types


# --- tailing ---------------------------------------------------------------


def _position(known: LogOffset) -> Position:
    return Position(known.dev, known.ino, known.offset, known.head)


class Tail:
    """Reads what each log gained since the last cycle; offsets go to the store."""

    def __init__(self, store: Store, now: float | None = None) -> None:
        self.store = store
        self.now = time.time() if now is None else now
        self.known = store.log_offsets()
        self.saved: dict[tuple[int, int], LogOffset] = {}
        self.read_logs = 0

    def read(self, logs: Iterable[ErrorLog]) -> list[Occurrence]:
        logs = tuple(logs)
        found: list[Occurrence] = []
        seen: set[tuple[int, int]] = set()
        for errorlog in logs:
            for name in sorted(glob.glob(errorlog.path, recursive=True)):
                if os.path.isfile(name):
                    found += self._read_file(Path(name), errorlog, seen)
        found += self._finish_rotated(seen, logs)
        self.store.save_log_offsets(self.saved.values())
        gone = [key for key in self.known if key not in seen]
        if gone:
            self.store.drop_log_offsets(gone)
        return found

    def _read_file(
        self, path: Path, errorlog: ErrorLog | None, seen: set[tuple[int, int]]
    ) -> list[Occurrence]:
        try:
            with open_regular(path) as handle:
                opened = OpenLog(handle)
                if opened.key in seen:
                    return []
                seen.add(opened.key)
                start = self._start(opened, errorlog)
                return self._consume(opened, path, start, errorlog)
        except OSError as exc:
            log.warning("errorlog.unreadable", log=str(path), error=str(exc))
            return []

    def _start(self, opened: OpenLog, errorlog: ErrorLog | None) -> int:
        known = self.known.get(opened.key)
        if known is not None:
            start = opened.resume(_position(known))
            if start == 0 and known.offset > 0:
                log.info("errorlog.restarted", log=known.path, reason="truncated or replaced")
            return start
        # A file never seen: a copy of one we read (copy-and-truncate rotation)
        # carries on where that one stopped; otherwise read it only if it is fresh.
        for other in self.known.values():
            if other.offset > 0 and opened.holds(_position(other)):
                return other.offset
        max_age = errorlog.max_age_minutes * 60 if errorlog else 0
        if errorlog is None or opened.mtime < self.now - max_age:
            return opened.size
        return opened.line_start(max(0, opened.size - FIRST_READ_BYTES))

    def _consume(
        self, opened: OpenLog, path: Path, start: int, errorlog: ErrorLog | None
    ) -> list[Occurrence]:
        end = opened.size
        if end - start > MAX_READ_BYTES:
            log.warning("errorlog.flood", log=str(path), skipped_bytes=end - MAX_READ_BYTES - start)
            start = opened.line_start(end - MAX_READ_BYTES)
        data = opened.read(start, end)
        complete = data.rfind(b"\n") + 1
        if complete == 0 and len(data) >= MAX_READ_BYTES:
            # Megabytes with no line end are no trace: step over them rather than
            # read the same bytes again every cycle.
            log.warning("errorlog.flood", log=str(path), skipped_bytes=len(data))
            complete = len(data)
            data = b""
        data = data[:complete]  # a line still being written waits
        offset = start + complete
        occurrences: list[Occurrence] = []
        if data:
            self.read_logs += 1
            settled = opened.mtime < self.now - SETTLE_SECONDS
            chunks = [line + b"\n" for line in data.split(b"\n")[:-1]]
            raw_lines = [chunk.decode("utf-8", "replace") for chunk in chunks]
            traces, pending = parse(clean_lines(raw_lines), final=settled)
            if pending is not None:
                index = _raw_index(raw_lines, pending)
                offset = start + sum(len(chunk) for chunk in chunks[:index])
            occurrences = [Occurrence(str(path), t, opened.mtime, errorlog) for t in traces]
        position = opened.position(offset)
        self.saved[opened.key] = LogOffset(
            position.device, position.inode, str(path), offset, position.head, self.now
        )
        return occurrences

    def _finish_rotated(
        self, seen: set[tuple[int, int]], logs: tuple[ErrorLog, ...]
    ) -> list[Occurrence]:
        """A log renamed away by rotation (app-error.log -> app-error.log.1): read
        what was appended to it before the rename, then let it go."""
        found: list[Occurrence] = []
        for key, known in self.known.items():
            if key in seen:
                continue
            folder = Path(known.path).parent
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.inode() != key[1] or not entry.is_file(follow_symlinks=False):
                        continue
                except OSError:
                    continue
                # Its offset stays saved (at its end) until the file is deleted.
                errorlog = next((e for e in logs if fnmatch(known.path, e.path)), None)
                found += self._read_file(Path(entry.path), errorlog, seen)
                break
        return found


def _raw_index(raw_lines: list[str], clean_index: int) -> int:
    """Raw line index for a cleaned line index; JSON records may expand to
    several cleaned lines, so walk both."""
    count = 0
    for index, raw in enumerate(raw_lines):
        parts = max(1, len(clean_lines([raw])))
        if count + parts > clean_index:
            return index
        count += parts
    return len(raw_lines) - 1


# --- traces -> findings ----------------------------------------------------


class _Files:
    """The watched file a trace's path names, if any (cached: a crash loop prints
    the same paths again and again)."""

    def __init__(self, finder: Finder) -> None:
        self.finder = finder
        self.guard = finder.guard
        self._looked_up: dict[str, WatchedFile | None] = {}
        self._protected: dict[Path, bool] = {}

    def is_protected(self, watched: WatchedFile) -> bool:
        if watched.real not in self._protected:
            self._protected[watched.real] = self.guard.is_protected(watched.path)
        return self._protected[watched.real]

    def lookup(self, printed: str) -> WatchedFile | None:
        if printed not in self._looked_up:  # a crash loop prints the same paths again
            self._looked_up[printed] = self._lookup(printed)
        return self._looked_up[printed]

    def _lookup(self, printed: str) -> WatchedFile | None:
        candidates = [Path(printed)]
        if not os.path.isabs(printed):
            candidates = [root / printed for root in self.guard.roots]
        for candidate in candidates:
            found = self.finder.lookup(candidate)
            if found is not None:
                return found
        return None


def _locate(trace: Trace, files: _Files) -> tuple[WatchedFile, Frame] | None:
    """The innermost frame that lies in a watched file; node's SyntaxError header
    (its frames are node's own) when no frame does.

    A SyntaxError with a location (node's header, Python's `File "x", line N`)
    belongs to that file alone: the frames under it are the code that was loading
    it (a `require`, an `import`), which parses, and blaming it would send a
    healthy file to the model. Located in no watched file, it is nobody's here."""
    if trace.header is not None and trace.error_type.rsplit(".", 1)[-1] in SYNTAX_ERRORS:
        watched = files.lookup(trace.header.path)
        return (watched, trace.header) if watched is not None else None
    for frame in trace.frames:
        watched = files.lookup(frame.path)
        if watched is not None:
            return watched, frame
    if trace.header is not None:
        watched = files.lookup(trace.header.path)
        if watched is not None:
            return watched, trace.header
    return None


def _acts_on(errorlog_types: tuple[str, ...], error_type: str) -> bool:
    return "*" in errorlog_types or error_type.rsplit(".", 1)[-1] in errorlog_types


def signature(error_type: str, message: str, path: Path, function: str) -> str:
    key = "\0".join((error_type, normalise_message(message), str(path), function))
    return sha256(key.encode("utf-8"))[:20]


def _sha_of(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def parses_per_scan(result: ScanResult) -> Callable[[Path], bool | None]:
    """Whether a file parses today, as a scan judged it: True, False, or None when
    the scan did not judge it (not in scope, skipped, or its checker unavailable)."""
    judged = {f.real for f in result.files if f.real not in result.skipped} - {
        f.real for f in result.files if f.language in result.unavailable
    }

    def parses(path: Path) -> bool | None:
        finding = result.findings.get(path)
        if finding is not None:
            return finding.kind != "syntax"
        return True if path in judged else None

    return parses


def collect(
    config: Config,
    store: Store,
    finder: Finder,
    *,
    now: float | None = None,
    parses: Callable[[Path], bool | None] | None = None,
) -> RuntimeStep:
    """Tail the [[errorlog]] files, record what they show, and return the active
    runtime errors as findings (one per file: the most recent).

    `parses(path)` (see parses_per_scan) says whether a file parses today: a
    SyntaxError blamed on a file that does is dropped, since it cannot be that
    file's syntax (JSON.parse, eval, or a trace mechanic misread)."""
    now = time.time() if now is None else now
    step = RuntimeStep()
    watched = _Files(finder)
    tail = Tail(store, now)
    occurrences = tail.read(config.errorlogs)
    step.read_logs = tail.read_logs
    # A crash loop repeats one error thousands of times: merge by signature in
    # memory, then write (and log) each signature once.
    merged: dict[str, RuntimeErrorRecord] = {}
    hashes: dict[Path, str | None] = {}
    for occurrence in occurrences:
        record = _record(occurrence, watched, now, hashes)
        if record is None:
            step.ignored += 1
            continue
        step.new_traces += 1
        merged[record.signature] = _merge(merged.get(record.signature), record)
    for record in merged.values():
        saved = store.note_runtime_error(record)
        log.info(
            "runtime.error",
            file=saved.path,
            line=saved.line,
            error=saved.message,
            function=saved.function or None,
            log=record.log_path,
            new=record.count,
            seen=saved.count,
            stale=record.addressed_at is not None or None,
        )
    addressed = []
    for error in store.runtime_errors():
        path = Path(error.path)
        current = watched.lookup(error.path)
        if current is None or watched.is_protected(current) or _sha_of(path) != error.file_sha:
            addressed.append(error.signature)
            log.info("runtime.addressed", file=error.path, error=error.message, why="file changed")
            continue
        if error.error_type.rsplit(".", 1)[-1] in SYNTAX_ERRORS and parses and parses(path):
            addressed.append(error.signature)
            log.warning(
                "runtime.dropped",
                file=error.path,
                error=error.message,
                why="the file parses today: this SyntaxError is not its syntax",
            )
            continue
        if path in step.findings:
            continue  # one finding per file: the most recent error
        step.errors.append(error)
        step.findings[path] = Finding(
            path, error.language, error.line, error.col, error.message, kind="runtime"
        )
    if addressed:
        store.mark_runtime_addressed(addressed, now)
    return step


def _merge(old: RuntimeErrorRecord | None, new: RuntimeErrorRecord) -> RuntimeErrorRecord:
    """Two sightings of one signature, combined the way the store combines them."""
    if old is None:
        return new
    latest = new if new.addressed_at is None or old.addressed_at is not None else old
    return replace(
        latest,
        count=old.count + new.count,
        first_seen=min(old.first_seen, new.first_seen),
        last_seen=max(old.last_seen, new.last_seen),
        log_path=new.log_path,
    )


def _record(
    occurrence: Occurrence, files: _Files, now: float, hashes: dict[Path, str | None]
) -> RuntimeErrorRecord | None:
    """The record of one sighting, or None when it is not acted on."""
    trace, errorlog = occurrence.trace, occurrence.errorlog
    if errorlog is not None:
        if errorlog.language not in ("auto", trace.language):
            return None
        if not _acts_on(errorlog.errors, trace.error_type):
            return None
        if trace.when is not None and trace.when < now - errorlog.max_age_minutes * 60:
            return None
    elif not _acts_on(DEFAULT_RUNTIME_ERRORS, trace.error_type):
        return None
    located = _locate(trace, files)
    if located is None:
        return None
    watched, frame = located
    if files.is_protected(watched):
        log.debug("runtime.protected", file=str(watched.real), error=trace.error_type)
        return None
    # When did it happen? The log's timestamp, else no later than the log's mtime.
    # A file changed after that was edited since: the error is already addressed.
    happened = trace.when if trace.when is not None else occurrence.log_mtime
    slack = 1.0 if trace.when is not None else 0.0  # log timestamps have whole seconds
    stale = watched.mtime_ns / 1e9 > happened + slack
    if not stale and watched.real not in hashes:
        hashes[watched.real] = _sha_of(watched.real)
    message = f"{trace.error_type}: {trace.message}" if trace.message else trace.error_type
    return RuntimeErrorRecord(
        signature=signature(trace.error_type, trace.message, watched.real, frame.function),
        path=str(watched.real),
        language=watched.language,
        line=frame.line,
        col=frame.column,
        error_type=trace.error_type,
        message=message,
        function=frame.function,
        log_path=occurrence.log_path,
        first_seen=happened,
        last_seen=happened,
        file_sha=None if stale else hashes[watched.real],
        addressed_at=now if stale else None,
    )


def join_findings(config: Config, store: Store, finder: Finder, result: ScanResult) -> RuntimeStep:
    """The runtime-error step of a scan, for the cycle and `mechanic check` alike:
    files that parse but crashed join `result`'s findings, so they are broken too
    (a parse error comes first). Only files `result` covers join it (a targeted
    cycle covers a few); the step's `errors` are narrowed to them too."""
    step = collect(config, store, finder, parses=parses_per_scan(result))
    in_scope = {f.real for f in result.files}
    step.errors = [e for e in step.errors if Path(e.path) in in_scope]
    for path, finding in step.findings.items():
        if path in in_scope:
            result.findings.setdefault(path, finding)
    return step
