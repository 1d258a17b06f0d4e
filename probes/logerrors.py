"""`logerrors`: lines matching `pattern` appended to a log since the last cycle,
per minute, stay at or below `max_per_minute`. The first look only notes where
the log ends: old errors are history, not news."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from mechanic.config.schema import Key
from mechanic.errors import ProbeConfigError
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
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return down(f"log {path} does not exist")
        except OSError as exc:
            return down(f"cannot read log {path}: {exc.strerror}")
        now = time.time()
        metrics: dict[str, Metric] = {"offset": info.st_size, "inode": info.st_ino, "at": now}
        offset, inode, then = previous.get("offset"), previous.get("inode"), previous.get("at")
        if not isinstance(offset, int) or not isinstance(then, int | float):
            return ok(f"watching {path} from its current end", matches=0, **metrics)
        if inode != info.st_ino or info.st_size < offset:
            offset = 0  # rotated or truncated: the new file is all news
        start = max(offset, info.st_size - MAX_READ)
        try:
            with open(path, "rb") as handle:
                handle.seek(start)
                data = handle.read(info.st_size - start)
        except OSError as exc:
            return down(f"cannot read log {path}: {exc.strerror}")
        pattern = re.compile(self.opts["pattern"])
        hits = [
            line for line in data.decode("utf-8", "replace").splitlines() if pattern.search(line)
        ]
        minutes = max(1.0, (now - then) / 60)
        rate = len(hits) / minutes
        metrics.update(matches=len(hits), per_minute=round(rate, 2))
        if rate > self.opts["max_per_minute"]:
            last = scrub(hits[-1].strip())[:200]
            return degraded(
                f"{len(hits)} matching lines in {minutes:.0f} min ({rate:.1f}/min, max"
                f" {self.opts['max_per_minute']}); last: {last}",
                **metrics,
            )
        return ok(f"{len(hits)} matching lines since last look", **metrics)
