"""`freshness`: the newest file matching `glob` under `path` is younger than
`max_age_minutes` (a pipeline that stopped producing output)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from mechanic.config.schema import Key
from probes.base import PROBES, Metric, Probe, ProbeResult, down, ok


def _positive(value: float) -> str | None:
    return None if value > 0 else f"must be greater than 0, got {value}"


def newest(path: Path, glob: str) -> tuple[Path, float] | None:
    """The newest matching file and its mtime; `path` itself when it is a file."""
    if path.is_file():
        return path, path.stat().st_mtime
    best: tuple[Path, float] | None = None
    for candidate in path.glob(glob):
        try:
            if not candidate.is_file():
                continue
            mtime = candidate.stat().st_mtime
        except OSError:
            continue  # vanished while we looked
        if best is None or mtime > best[1]:
            best = (candidate, mtime)
    return best


@PROBES.register("freshness")
class FreshnessProbe(Probe):
    type = "freshness"
    options: ClassVar[dict[str, Key]] = {
        "path": Key((str,), None, required=True),
        "glob": Key((str,), "*"),  # "**/*.json" searches sub-folders
        "max_age_minutes": Key((int, float), None, _positive, required=True),
    }
    path_options = ("path",)

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        path = Path(self.opts["path"])
        if not path.exists():
            return down(f"{path} does not exist")
        found = newest(path, self.opts["glob"])
        if found is None:
            return down(f"no file matches {self.opts['glob']!r} in {path}")
        latest, mtime = found
        age = max(0.0, (time.time() - mtime) / 60)
        metrics: dict[str, Metric] = {"age_minutes": round(age, 1)}
        if age > self.opts["max_age_minutes"]:
            limit = self.opts["max_age_minutes"]
            return down(
                f"newest file {latest.name} is {_age(age)} old (max {limit} min)", **metrics
            )
        return ok(f"newest file {latest.name} is {_age(age)} old", **metrics)


def _age(minutes: float) -> str:
    if minutes < 90:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"
