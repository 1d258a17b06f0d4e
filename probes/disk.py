"""`disk`: enough free space on the filesystem holding `path`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import psutil

from mechanic.config.schema import Key
from mechanic.errors import ProbeConfigError
from probes.base import PROBES, ConfigContext, Metric, Probe, ProbeResult, down, ok

NUMBER = (int, float)


@PROBES.register("disk")
class DiskProbe(Probe):
    type = "disk"
    options: ClassVar[dict[str, Key]] = {
        "path": Key((str,), "/"),
        "min_free_percent": Key(NUMBER, None),
        "min_free_gb": Key(NUMBER, None),
    }
    path_options = ("path",)

    @classmethod
    def prepare(cls, values: dict[str, Any], ctx: ConfigContext) -> dict[str, Any]:
        if values["min_free_percent"] is None and values["min_free_gb"] is None:
            raise ProbeConfigError("min_free_percent", "set min_free_percent and/or min_free_gb")
        percent = values["min_free_percent"]
        if percent is not None and not 0 <= percent <= 100:
            raise ProbeConfigError("min_free_percent", f"must be between 0 and 100, got {percent}")
        if values["min_free_gb"] is not None and values["min_free_gb"] < 0:
            raise ProbeConfigError("min_free_gb", "must be at least 0")
        return super().prepare(values, ctx)

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        path = self.opts["path"]
        try:
            usage = psutil.disk_usage(path)
        except FileNotFoundError:
            return down(f"{path} does not exist")
        except OSError as exc:
            return down(f"cannot measure {path}: {exc.strerror or exc}")
        free_gb = usage.free / 1024**3
        free_percent = 100 - usage.percent
        metrics: dict[str, Metric] = {
            "free_gb": round(free_gb, 2),
            "free_percent": round(free_percent, 1),
        }
        summary = f"{free_gb:.1f} GB free ({free_percent:.1f}%) on {path}"
        min_percent, min_gb = self.opts["min_free_percent"], self.opts["min_free_gb"]
        if min_percent is not None and free_percent < min_percent:
            return down(f"{summary}, below {min_percent}%", **metrics)
        if min_gb is not None and free_gb < min_gb:
            return down(f"{summary}, below {min_gb} GB", **metrics)
        return ok(summary, **metrics)
