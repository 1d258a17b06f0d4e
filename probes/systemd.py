"""`systemd`: a unit is active (`user = true` for a user unit)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from typing import ClassVar

from mechanic.config.schema import Key
from probes.base import PROBES, Metric, Probe, ProbeResult, degraded, down, error, ok


def _not_empty(value: str) -> str | None:
    return "must not be empty" if not value.strip() else None


@PROBES.register("systemd")
class SystemdProbe(Probe):
    type = "systemd"
    options: ClassVar[dict[str, Key]] = {
        "unit": Key((str,), None, _not_empty, required=True),
        "user": Key((bool,), False),
    }

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        systemctl = shutil.which("systemctl")
        if systemctl is None:
            return error("systemctl not found: this machine does not run systemd")
        unit = self.opts["unit"]
        command = [systemctl, *(["--user"] if self.opts["user"] else []), "show", unit]
        command += ["--property=ActiveState,SubState,LoadState,NRestarts"]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return down(f"systemctl did not answer within {self.timeout:g}s")
        props = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
        if done.returncode != 0 or "ActiveState" not in props:
            detail = done.stderr.strip().splitlines()
            return error(f"systemctl cannot tell: {detail[0] if detail else done.returncode}")
        active, sub, load = (
            props["ActiveState"],
            props.get("SubState", ""),
            props.get("LoadState", ""),
        )
        metrics: dict[str, Metric] = {"active": active, "sub": sub}
        if props.get("NRestarts", "").isdigit():
            metrics["restarts"] = int(props["NRestarts"])
        if load == "not-found":
            return down(f"unit {unit} does not exist", **metrics)
        if active == "active":
            return ok(f"{unit} is active ({sub})", **metrics)
        if active in ("activating", "reloading"):
            return degraded(f"{unit} is {active} ({sub})", **metrics)
        return down(f"{unit} is {active} ({sub})", **metrics)
