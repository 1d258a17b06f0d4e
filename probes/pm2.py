"""`pm2`: every app (or the listed `apps`) is `online`; restarts since the last
cycle are reported (a crash loop looks online between crashes)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import psutil

from mechanic.config.schema import Key, check_globs
from mechanic.plural import plural
from probes.base import PROBES, ConfigContext, Metric, Probe, ProbeResult, degraded, down, error, ok


def pm2_env(home: str) -> dict[str, str]:
    """The environment pm2 runs with: quiet (no banner before the JSON), and the
    probe's PM2_HOME when one is set."""
    env = {**os.environ, "PM2_SILENT": "true"}
    if home:
        env["PM2_HOME"] = home
    return env


def find_pm2(command: str) -> str | None:
    return shutil.which(command)


def parse_jlist(output: str) -> list[dict[str, Any]]:
    """The JSON array `pm2 jlist` prints, after whatever preamble came first
    ("[PM2] Spawning PM2 daemon..." also starts with a bracket)."""
    decoder = json.JSONDecoder()
    start = output.find("[")
    while start != -1:
        try:
            value, end = decoder.raw_decode(output, start)
        except ValueError:
            value, end = None, start
        if isinstance(value, list) and not output[end:].strip():
            return value
        start = output.find("[", start + 1)
    raise ValueError("no JSON list in pm2's output")


def _daemon_running(home: str) -> bool:
    pidfile = Path(home or os.environ.get("PM2_HOME") or Path.home() / ".pm2") / "pm2.pid"
    try:
        return psutil.pid_exists(int(pidfile.read_text().strip()))
    except (OSError, ValueError):
        return False


@PROBES.register("pm2")
class Pm2Probe(Probe):
    type = "pm2"
    options: ClassVar[dict[str, Key]] = {
        "apps": Key((list,), [], check_globs),  # default: every app pm2 knows
        "pm2": Key((str,), "pm2"),  # the pm2 command (launchd's PATH lacks Homebrew's)
        "pm2_home": Key((str,), ""),  # default: $PM2_HOME, else ~/.pm2
    }

    @classmethod
    def prepare(cls, values: dict[str, Any], ctx: ConfigContext) -> dict[str, Any]:
        if values["pm2_home"]:
            values["pm2_home"] = ctx.path(values["pm2_home"])
        return values

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        pm2 = find_pm2(self.opts["pm2"])
        if pm2 is None:
            return error(f'pm2 not found on PATH ({self.opts["pm2"]!r}); set pm2 = "/path/to/pm2"')
        home = self.opts["pm2_home"]
        # `pm2 jlist` would start a daemon as a side effect; a probe only looks.
        if not _daemon_running(home):
            return down("the pm2 daemon is not running")
        try:
            done = subprocess.run(
                [pm2, "jlist"],
                capture_output=True,
                text=True,
                timeout=self.timeout,
                env=pm2_env(home),
                check=False,
            )
            apps = parse_jlist(done.stdout)
        except subprocess.TimeoutExpired:
            return down(f"pm2 jlist did not answer within {self.timeout:g}s")
        except ValueError:
            detail = (done.stderr or done.stdout).strip().splitlines()
            return error(f"pm2 jlist printed no app list: {detail[-1] if detail else 'nothing'}")
        return self._judge(apps, previous)

    def _judge(self, apps: list[dict[str, Any]], previous: Mapping[str, Metric]) -> ProbeResult:
        by_name = {str(app.get("name")): app for app in apps}
        wanted = list(self.opts["apps"]) or sorted(by_name)
        metrics: dict[str, Metric] = {"apps": len(wanted)}
        stopped, restarted, missing = [], [], []
        for name in wanted:
            app = by_name.get(name)
            if app is None:
                missing.append(name)
                continue
            env = app.get("pm2_env") or {}
            status = env.get("status", "unknown")
            restarts = int(env.get("restart_time") or 0)
            metrics[f"restarts:{name}"] = restarts
            metrics[f"status:{name}"] = status
            before = previous.get(f"restarts:{name}")
            if status != "online":
                stopped.append(f"{name} is {status}")
            elif isinstance(before, int) and restarts > before:
                restarted.append(f"{name} restarted {restarts - before}x since last cycle")
        if missing:
            stopped += [f"{name} is not in pm2's list" for name in missing]
        if stopped:
            return down("; ".join(stopped + restarted), **metrics)
        if restarted:
            return degraded("; ".join(restarted), **metrics)
        if not wanted:
            return ok("pm2 runs no apps", **metrics)
        return ok(f"{plural(len(wanted), 'app')} online: {', '.join(wanted)}", **metrics)
