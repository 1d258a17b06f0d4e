"""`memory`: RAM in use stays below `max_used_percent` and/or `min_available_mb` is left."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import psutil

from mechanic.config.schema import Key
from probes.base import PROBES, Metric, Probe, ProbeResult, degraded, ok

NUMBER = (int, float)


def _percent(value: float) -> str | None:
    return None if 0 < value <= 100 else f"must be between 0 and 100, got {value}"


@PROBES.register("memory")
class MemoryProbe(Probe):
    type = "memory"
    options: ClassVar[dict[str, Key]] = {
        "max_used_percent": Key(NUMBER, 90, _percent),
        "min_available_mb": Key(NUMBER, 0),
        "max_swap_percent": Key(NUMBER, 100, _percent),
    }

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        mem = psutil.virtual_memory()
        swap = psutil.swap_memory()
        available_mb = mem.available / 1024**2
        metrics: dict[str, Metric] = {
            "used_percent": mem.percent,
            "available_mb": round(available_mb),
            "swap_percent": swap.percent,
        }
        summary = f"{mem.percent:.0f}% used, {available_mb:,.0f} MB available"
        if mem.percent > self.opts["max_used_percent"]:
            return degraded(f"{summary} (max {self.opts['max_used_percent']}%)", **metrics)
        if available_mb < self.opts["min_available_mb"]:
            return degraded(f"{summary} (min {self.opts['min_available_mb']} MB)", **metrics)
        if swap.total and swap.percent > self.opts["max_swap_percent"]:
            return degraded(
                f"swap {swap.percent:.0f}% used (max {self.opts['max_swap_percent']}%)", **metrics
            )
        return ok(summary, **metrics)
