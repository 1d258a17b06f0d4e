"""Actions on the pipeline: a probe's `on_down`, and a watch root's `on_fix`.

restart_pm2 (`pm2 restart APP`), restart_systemd (`systemctl [--user] restart
UNIT`) or exec (a command given as a list: no shell, so nothing in it is
interpreted). Each runs bounded by its timeout_seconds. How often on_down may
run is the health model's business (probes/health.py); on_fix runs once per
cycle for each root where a fix was applied, so the service picks the fix up.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from mechanic.config.settings import Config, ProbeSpec, Remediation
from mechanic.redact import scrub

log = structlog.get_logger("mechanic.remediation")


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    detail: str


@dataclass
class FixAction:
    """A watch root's on_fix, run after fixes were applied under it this cycle."""

    root: str
    action: str
    ok: bool
    detail: str
    files: list[str] = field(default_factory=list)
    id: int | None = None


def command_for(
    spec: ProbeSpec | None, remedy: Remediation
) -> tuple[list[str], dict[str, str] | None]:
    """The command line of `remedy`, and the environment it needs (None: inherit).
    A pm2 probe's `pm2` and `pm2_home` apply to its own on_down."""
    if remedy.action == "restart_pm2":
        from probes.pm2 import pm2_env

        options = spec.options if spec is not None and spec.type == "pm2" else {}
        pm2 = options.get("pm2", "pm2")
        home = options.get("pm2_home", "")
        return [shutil.which(pm2) or pm2, "restart", remedy.app], pm2_env(home)
    if remedy.action == "restart_systemd":
        user = ["--user"] if remedy.user else []
        return ["systemctl", *user, "restart", remedy.unit], None
    return list(remedy.command), None


def run_action(spec: ProbeSpec | None, remedy: Remediation) -> ActionResult:
    result = _run(spec, remedy)
    # The detail is logged, stored and shown: scrub what looks like a password.
    return ActionResult(result.ok, scrub(result.detail))


def run_on_fix(config: Config, fixed: Sequence[str]) -> list[FixAction]:
    """Each watch root's on_fix, once, when one of the `fixed` paths (files whose
    fix was applied) lies under it. Roots are matched on resolved paths."""
    actions = []
    for watch in config.watches:
        if watch.on_fix is None:
            continue
        root = Path(watch.path).resolve()
        under = sorted({p for p in fixed if root == Path(p) or root in Path(p).parents})
        if not under:
            continue
        result = run_action(None, watch.on_fix)
        action = FixAction(str(root), watch.on_fix.action, result.ok, result.detail, under)
        actions.append(action)
        getattr(log, "info" if result.ok else "error")(
            "fix.action",
            root=action.root,
            action=action.action,
            ok=action.ok,
            detail=action.detail,
            files=under,
        )
    return actions


def _run(spec: ProbeSpec | None, remedy: Remediation) -> ActionResult:
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
