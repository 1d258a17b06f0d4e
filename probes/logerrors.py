"""`logerrors`: lines matching `pattern` appended to a log since the last cycle,
per minute, stay at or below `max_per_minute`. The first look only notes where
the log ends: old errors are history, not news."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from mechanic.config.schema import Key
from mechanic.detect import tracebacks
from mechanic.errors import ProbeConfigError
from mechanic.files.tail import Position, Tail
from mechanic.plural import plural
from mechanic.redact import scrub
from probes.base import (
    PROBES,
    ConfigContext,
    Metric,
    Probe,
    ProbeResult,
    degraded,
    down,
    ok,
)

MAX_READ = 8 * 1024 * 1024  # a log that grew more than this is read from its last 8 MB
# How far around the last matching line a trace holding it is looked for (a deep
# recursion's traceback is long), so an 8 MB read is never parsed whole.
TRACE_LOOKBACK = 2000


@PROBES.register("logerrors")
class LogErrorsProbe(Probe):
    type = "logerrors"
    options: ClassVar[dict[str, Key]] = {
        "path": Key((str,), None, required=True),
        "pattern": Key((str,), r"\b(ERROR|Error|FATAL|Traceback)\b"),
        "max_per_minute": Key((int, float), 0),
    }
    path_options = ("path",)

    @classmethod
    def prepare(cls, values: dict[str, Any], ctx: ConfigContext) -> dict[str, Any]:
        try:
            re.compile(values["pattern"])
        except re.error as exc:
            raise ProbeConfigError("pattern", f"is not a valid regular expression: {exc}") from None
        if values["max_per_minute"] < 0:
            raise ProbeConfigError("max_per_minute", "must be at least 0")
        return super().prepare(values, ctx)

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        path = self.opts["path"]
        known = _position(previous)
        then = previous.get("at")
        now = time.time()
        try:
            if known is None or not isinstance(then, int | float):
                return _first_look(path, now)
            tail = Tail(path, known)
            data = tail.read(max_bytes=MAX_READ, whole_lines=False)
        except FileNotFoundError:
            return down(f"log {path} does not exist")
        except OSError as exc:
            return down(f"cannot read log {path}: {exc.strerror}")
        metrics = _metrics(tail.position, now)
        pattern = re.compile(self.opts["pattern"])
        lines = data.decode("utf-8", "replace").splitlines()
        hits = [index for index, line in enumerate(lines) if pattern.search(line)]
        minutes = max(1.0, (now - then) / 60)
        rate = len(hits) / minutes
        metrics.update(matches=len(hits), per_minute=round(rate, 2))
        if rate > self.opts["max_per_minute"]:
            last = scrub(_quoted(lines, hits[-1]).strip())[:200]
            return degraded(
                f"{plural(len(hits), 'matching line')} in {minutes:.0f} min ({rate:.1f}/min, max"
                f" {self.opts['max_per_minute']}); last: {last}",
                **metrics,
            )
        return ok(f"{plural(len(hits), 'matching line')} since last look", **metrics)


def _quoted(lines: list[str], hit: int) -> str:
    """The line to quote for the matching line at `hit`: when it is part of a stack
    trace (most often its `Traceback (most recent call last):`), the trace's
    exception line, which says what broke; otherwise the line itself."""
    start, stop = max(0, hit - TRACE_LOOKBACK), min(len(lines), hit + TRACE_LOOKBACK)
    # One raw line can become several (a pm2 JSON record): map each back to its own.
    cleaned: list[tracebacks.LogLine] = []
    owner: list[int] = []
    for index in range(start, stop):
        parts = tracebacks.clean_lines([lines[index]])
        cleaned.extend(parts)
        owner.extend([index] * len(parts))
    traces, _ = tracebacks.parse(cleaned, final=True)
    for trace in reversed(traces):
        if trace.end_line <= trace.first_line:
            continue
        first, last = owner[trace.first_line], owner[trace.end_line - 1]
        if first <= hit <= last:
            return trace.exception_line
        if last < hit:
            break
    return lines[hit]


def _metrics(position: Position | None, now: float) -> dict[str, Metric]:
    """Where the log was left, kept as this probe's metrics for its next look."""
    assert position is not None  # every read leaves one
    return {
        "offset": position.offset,
        "inode": position.inode,
        "device": position.device,
        "head": position.head,
        "at": now,
    }


def _first_look(path: str, now: float) -> ProbeResult:
    """Old errors are history, not news: note where the log ends."""
    position = Tail.at(path).position
    if position is None:
        return down(f"log {path} does not exist")
    return ok(f"watching {path} from its current end", matches=0, **_metrics(position, now))


def _position(previous: Mapping[str, Metric]) -> Position | None:
    """Where the last look left the log (None: there was none, or it predates heads)."""
    offset, inode = previous.get("offset"), previous.get("inode")
    device, head = previous.get("device"), previous.get("head")
    numbers = isinstance(offset, int) and isinstance(inode, int) and isinstance(device, int)
    if not numbers or not isinstance(head, str):
        return None
    return Position(device, inode, offset, head)  # type: ignore[arg-type]
