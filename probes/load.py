"""`load`: the load average per CPU stays below `max_per_cpu`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import psutil

from mechanic.config.schema import Key
from probes.base import PROBES, Metric, Probe, ProbeResult, degraded, ok

WINDOWS = {1: 0, 5: 1, 15: 2}


def _window(value: int) -> str | None:
    return None if value in WINDOWS else f"must be 1, 5 or 15 (minutes), got {value}"


def _positive(value: float) -> str | None:
    return None if value > 0 else f"must be greater than 0, got {value}"


@PROBES.register("load")
class LoadProbe(Probe):
    type = "load"
    options: ClassVar[dict[str, Key]] = {
        "max_per_cpu": Key((int, float), 2.0, _positive),
        "window_minutes": Key((int,), 5, _window),
    }

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        window = self.opts["window_minutes"]
        load = psutil.getloadavg()[WINDOWS[window]]
        cpus = psutil.cpu_count() or 1
        per_cpu = load / cpus
        metrics: dict[str, Metric] = {
            "load": round(load, 2),
            "per_cpu": round(per_cpu, 2),
            "cpus": cpus,
        }
        summary = f"{window}-minute load {load:.2f} on {cpus} CPUs ({per_cpu:.2f} per CPU)"
        if per_cpu > self.opts["max_per_cpu"]:
            return degraded(f"{summary}, above {self.opts['max_per_cpu']}", **metrics)
        return ok(summary, **metrics)
