"""`process`: a process runs, found by `process_name`, a `cmdline` pattern or a
`pidfile`. (Not `name`: every [[probe]] table's `name` is the probe's own.)"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import psutil

from mechanic.config.schema import Key
from mechanic.errors import ProbeConfigError
from mechanic.plural import plural
from probes.base import PROBES, ConfigContext, Metric, Probe, ProbeResult, down, ok

WAYS = ("process_name", "cmdline", "pidfile")


@PROBES.register("process")
class ProcessProbe(Probe):
    type = "process"
    options: ClassVar[dict[str, Key]] = {
        "process_name": Key((str,), ""),  # exact process name (as `ps -o comm` shows it)
        "cmdline": Key((str,), ""),  # regular expression searched in the full command line
        "pidfile": Key((str,), ""),
        "min_count": Key((int,), 1),
    }
    path_options = ("pidfile",)

    @classmethod
    def prepare(cls, values: dict[str, Any], ctx: ConfigContext) -> dict[str, Any]:
        given = [way for way in WAYS if values[way]]
        if len(given) != 1:
            raise ProbeConfigError(
                "process_name", "set exactly one of process_name, cmdline or pidfile"
            )
        if values["cmdline"]:
            try:
                re.compile(values["cmdline"])
            except re.error as exc:
                raise ProbeConfigError(
                    "cmdline", f"is not a valid regular expression: {exc}"
                ) from None
        if values["min_count"] < 1:
            raise ProbeConfigError("min_count", "must be at least 1")
        return super().prepare(values, ctx)

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        if self.opts["pidfile"]:
            return self._pidfile(Path(self.opts["pidfile"]))
        found = list(self._matching())
        rss = sum(p.info["memory_info"].rss for p in found if p.info.get("memory_info"))
        metrics: dict[str, Metric] = {"count": len(found), "rss_mb": round(rss / 1024**2, 1)}
        name = self.opts["process_name"]
        what = f"name {name!r}" if name else f"cmdline /{self.opts['cmdline']}/"
        if len(found) < self.opts["min_count"]:
            return down(
                f"{plural(len(found), 'process', 'processes')} with {what}"
                f" (want {self.opts['min_count']})",
                **metrics,
            )
        pids = ", ".join(str(p.pid) for p in found[:5])
        processes = plural(len(found), "process", "processes")
        return ok(f"{processes} with {what}: pid {pids}", **metrics)

    def _matching(self):
        pattern = re.compile(self.opts["cmdline"]) if self.opts["cmdline"] else None
        for proc in psutil.process_iter(["name", "cmdline", "memory_info", "status"]):
            if proc.pid == os.getpid() or proc.info.get("status") == psutil.STATUS_ZOMBIE:
                continue
            if pattern is None:
                if proc.info.get("name") == self.opts["process_name"]:
                    yield proc
            elif pattern.search(" ".join(proc.info.get("cmdline") or [])):
                yield proc

    def _pidfile(self, path: Path) -> ProbeResult:
        try:
            pid = int(path.read_text().strip())
        except FileNotFoundError:
            return down(f"pidfile {path} does not exist")
        except (OSError, ValueError) as exc:
            return down(f"pidfile {path} is unreadable: {exc}")
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE:
                return down(f"pid {pid} from {path} is a zombie")
            rss = proc.memory_info().rss
        except psutil.NoSuchProcess:
            return down(f"pid {pid} from {path} is not running", pid=pid)
        except psutil.AccessDenied:
            return ok(f"pid {pid} from {path} runs", pid=pid)
        return ok(
            f"pid {pid} ({proc.name()}) from {path} runs", pid=pid, rss_mb=round(rss / 1024**2, 1)
        )
