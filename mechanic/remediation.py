"""What Layer 1 does about a probe that is down: `on_down` actions.

restart_pm2 (`pm2 restart APP`), restart_systemd (`systemctl [--user] restart
UNIT`) or exec (a command given as a list: no shell, so nothing in it is
interpreted). Each runs bounded by on_down.timeout_seconds. How often they may
run is the health model's business (mechanic/health.py).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from mechanic.config import ProbeSpec, Remediation
from probes.base import redact


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    detail: str


def command_for(spec: ProbeSpec, remedy: Remediation) -> tuple[list[str], dict[str, str] | None]:
    """The command line of `remedy`, and the environment it needs (None: inherit)."""
    if remedy.action == "restart_pm2":
        from probes.pm2 import pm2_env

        pm2 = spec.options.get("pm2", "pm2") if spec.type == "pm2" else "pm2"
        home = spec.options.get("pm2_home", "") if spec.type == "pm2" else ""
        return [shutil.which(pm2) or pm2, "restart", remedy.app], pm2_env(home)
    if remedy.action == "restart_systemd":
        user = ["--user"] if remedy.user else []
        return ["systemctl", *user, "restart", remedy.unit], None
    return list(remedy.command), None


def run_action(spec: ProbeSpec, remedy: Remediation) -> ActionResult:
    result = _run(spec, remedy)
    # The detail is logged, stored and shown: scrub what looks like a password.
    return ActionResult(result.ok, redact(result.detail))


def _run(spec: ProbeSpec, remedy: Remediation) -> ActionResult:
    command, env = command_for(spec, remedy)
    shown = " ".join(command[1:]) if remedy.action != "exec" else " ".join(command)
    what = {"restart_pm2": "pm2", "restart_systemd": "systemctl"}.get(remedy.action, "")
    label = f"{what} {shown}".strip()
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=remedy.timeout_seconds,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        return ActionResult(False, f"{label}: {command[0]} not found")
    except subprocess.TimeoutExpired:
        return ActionResult(False, f"{label}: still running after {remedy.timeout_seconds:g}s")
    except OSError as exc:
        return ActionResult(False, f"{label}: {exc.strerror or exc}")
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()
        return ActionResult(False, f"{label}: exit {done.returncode}: {tail[-1] if tail else ''}")
    return ActionResult(True, f"{label}: done")
