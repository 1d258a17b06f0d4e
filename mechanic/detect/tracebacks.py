"""Python tracebacks and Node.js stack traces, read out of log lines.

Pure text in, traces out: no file system, no store. `errorlog.py` tails the
files and decides which traces point at a watched file.

Log lines may carry what PM2 adds: a `log_date_format` / `--time` prefix
("2026-11-21T09:30:00: "), written once per chunk the process wrote (so only the
first line of a stack trace may have it); a JSON object per chunk with
`--log-type json`; or the "0|app  | " prefix of `pm2 logs` output saved to a file.
"""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from dataclasses import dataclass
from datetime import datetime

# --- one log line ----------------------------------------------------------

_PM2_VIEW_PREFIX = re.compile(r"^\d+\|[\w.@/-]+\s*\|\s?")
_TIME_PREFIX = re.compile(
    r"^\[?(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:\s?(?:Z|[+-]\d{2}:?\d{2}))?)\]?:?\s"
)


@dataclass(frozen=True)
class LogLine:
    text: str
    when: float | None  # epoch seconds from a timestamp prefix, if there was one


@functools.lru_cache(maxsize=4096)  # one stamp per second of log: mostly repeats
def _timestamp(text: str) -> float | None:
    text = text.replace(",", ".").replace(" Z", "Z")
    text = re.sub(r"\s([+-]\d{2}:?\d{2})$", r"\1", text)
    try:
        return datetime.fromisoformat(text).timestamp()  # naive = local time
    except ValueError:
        return None


def clean_lines(raw_lines: list[str]) -> list[LogLine]:
    """Strip PM2's decorations; expand JSON log records into their lines."""
    out: list[LogLine] = []
    for raw in raw_lines:
        line = raw.rstrip("\r\n")
        if not line or not (line[0].isdigit() or line[0] in "{[ "):
            out.append(LogLine(line, None))  # the common case: nothing to strip
            continue
        stripped = line.strip()
        if stripped.startswith("{") and stripped.endswith("}") and '"message"' in stripped:
            try:
                record = json.loads(stripped)
            except ValueError:
                record = None
            if isinstance(record, dict) and isinstance(record.get("message"), str):
                stamp = record.get("timestamp")
                when = _timestamp(stamp) if isinstance(stamp, str) else None
                out.extend(LogLine(part, when) for part in record["message"].splitlines())
                continue
        line = _PM2_VIEW_PREFIX.sub("", line)
        match = _TIME_PREFIX.match(line)
        when = None
        if match:
            when = _timestamp(match.group("ts"))
            if when is not None:
                line = line[match.end() :]
        out.append(LogLine(line, when))
    return out


# --- traces ----------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    path: str  # as the trace printed it (file:// URLs already turned into paths)
    line: int
    column: int | None
    function: str


@dataclass(frozen=True)
class Trace:
    language: str  # "python" | "javascript"
    error_type: str
    message: str
    frames: tuple[Frame, ...]  # innermost first
    when: float | None
    # Where a SyntaxError itself is: node's leading "file:line" + caret block, or the
    # `File "x", line N` (no "in") that Python prints after the frames. The frames
    # are then the code that was *loading* that file, not code at fault.
    header: Frame | None = None
    first_line: int = 0  # index in the lines given to parse()
    end_line: int = 0  # index just past its last line (its exception line, for Python)

    @property
    def exception_line(self) -> str:
        """What broke, as the trace printed it: `ZeroDivisionError: division by zero`."""
        return f"{self.error_type}: {self.message}" if self.message else self.error_type


_PY_START = re.compile(r"^\s*Traceback \(most recent call last\):\s*$")
_PY_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, in (?P<fn>.+))?\s*$')
_PY_CHAIN = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
_PY_EXC = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<msg>.*))?$")

_JS_EXC = re.compile(
    r"^\s*(?:Uncaught\s+)?(?P<type>[A-Z]\w*(?:Error|Exception))"
    r"(?:\s\[(?P<code>[A-Z0-9_]+)\])?(?::\s?(?P<msg>.*))?$"
)
_JS_FRAME = re.compile(
    r"^\s+at (?:async )?(?:(?P<fn>.+?) \()?(?P<loc>(?:file://)?/[^()]*?|[^()\s]+?)"
    r":(?P<line>\d+):(?P<col>\d+)\)?(?:\s*\{)?\s*$"  # " {" opens the error's own fields
)
_JS_HEADER = re.compile(r"^(?P<loc>(?:file://)?/.+?):(?P<line>\d+)$")
_JS_CARET = re.compile(r"^(?P<pad>\s*)\^+\s*$")


def _js_path(loc: str) -> str:
    if loc.startswith("file://"):
        return urllib.parse.unquote(urllib.parse.urlparse(loc).path)
    return loc


def parse(lines: list[LogLine], *, final: bool = False) -> tuple[list[Trace], int | None]:
    """Every trace in `lines`, and the index where a trace that may be unfinished
    starts (it runs to the end of what has been written so far), or None. With
    `final`, the writer is done: a node trace at the end is complete as it is."""
    traces: list[Trace] = []
    index, pending = 0, None
    when: float | None = None
    while index < len(lines):
        line = lines[index]
        if line.when is not None:
            when = line.when
        if _PY_START.match(line.text):
            trace, end = _python(lines, index, when)
            if trace is None:
                if end >= len(lines) and not final:
                    pending = index
                    break
                index = end  # cut off for good, or not a traceback we understand
                continue
            if traces and traces[-1].language == "python" and _chained(lines, index):
                traces.pop()  # only the last exception of a chain is what crashed
            traces.append(trace)
            index = end
            continue
        match = _JS_EXC.match(line.text)
        if match and not line.text.startswith((" ", "\t")):
            frames, end = _js_frames(lines, index + 1)
            header = _js_header(lines, index)
            if end >= len(lines) and (frames or header) and not final:
                pending = _js_start(lines, index)
                break
            if frames or header:
                traces.append(
                    Trace(
                        "javascript",
                        match.group("type"),
                        (match.group("msg") or "").strip(),
                        tuple(frames),
                        when,
                        header=header,
                        first_line=_js_start(lines, index),
                        end_line=end,
                    )
                )
                index = end
                continue
        index += 1
    return traces, pending


def _chained(lines: list[LogLine], start: int) -> bool:
    """True when the traceback at `start` follows a chain phrase."""
    back = start - 1
    while back >= 0 and not lines[back].text.strip():
        back -= 1
    return back >= 0 and lines[back].text.strip() in _PY_CHAIN


def _python(lines: list[LogLine], start: int, when: float | None) -> tuple[Trace | None, int]:
    frames: list[Frame] = []
    header: Frame | None = None
    index = start + 1
    while index < len(lines):
        text = lines[index].text
        frame = _PY_FRAME.match(text)
        if frame:
            if header is not None:  # a location followed by more frames was a frame
                frames.append(header)
                header = None
            found = Frame(
                frame.group("path"), int(frame.group("line")), None, frame.group("fn") or ""
            )
            if frame.group("fn") is None:
                header = found  # a SyntaxError's own location, if nothing follows it
            else:
                frames.append(found)
        elif text.startswith((" ", "\t")) or not text.strip():
            pass  # the source line, carets (^^^, ~~~), or "...<N lines>..."
        else:
            exc = _PY_EXC.match(text.strip())
            if exc is None:
                return None, index  # not a traceback we understand: skip it
            trace = Trace(
                "python",
                exc.group("type"),
                (exc.group("msg") or "").strip(),
                tuple(reversed(frames)),
                when,
                header=header,
                first_line=start,
                end_line=index + 1,
            )
            return trace, index + 1
        index += 1
    return None, index


def _js_frames(lines: list[LogLine], start: int) -> tuple[list[Frame], int]:
    frames: list[Frame] = []
    index = start
    while index < len(lines):
        text = lines[index].text
        frame = _JS_FRAME.match(text)
        if frame:
            frames.append(
                Frame(
                    _js_path(frame.group("loc")),
                    int(frame.group("line")),
                    int(frame.group("col")),
                    (frame.group("fn") or "").strip(),
                )
            )
        elif not text.strip().startswith("at "):
            break
        index += 1
    return frames, index


def _js_header_at(lines: list[LogLine], index: int) -> tuple[Frame, int] | None:
    """The "file:line" + code + caret block that ends just above `index`.

    At the end of a file ("Unexpected end of input") node prints the header over a
    blank code line and a blank caret line: then the header has no column."""
    back = index - 1
    while back >= 0 and not lines[back].text.strip():
        back -= 1
    if back < 0:
        return None
    caret = _JS_CARET.match(lines[back].text)
    if caret and back >= 2:
        header = _JS_HEADER.match(lines[back - 2].text)
        if header:
            column = len(caret.group("pad")) + 1
            frame = Frame(_js_path(header.group("loc")), int(header.group("line")), column, "")
            return frame, back - 2
        return None
    # No caret: the header itself, with only blank lines (code, caret) under it.
    header = _JS_HEADER.match(lines[back].text)
    if header and index - back - 1 >= 2:
        return Frame(_js_path(header.group("loc")), int(header.group("line")), None, ""), back
    return None


def _js_header(lines: list[LogLine], index: int) -> Frame | None:
    found = _js_header_at(lines, index)
    return found[0] if found else None


def _js_start(lines: list[LogLine], index: int) -> int:
    found = _js_header_at(lines, index)
    return found[1] if found else index


# --- signatures ------------------------------------------------------------

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_NUMBER = re.compile(r"\d+")


def normalise_message(message: str) -> str:
    """The message with addresses and numbers blanked, so one error repeated
    with different ids, ports or counts has one signature."""
    return _NUMBER.sub("N", _ADDRESS.sub("0x?", message)).strip()
