"""`mechanic run` as a real subprocess for tests: start it, read the events it
logs to state/mechanic.log, wait for one, stop it with a signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.workspace import REPO, Workspace

Event = dict[str, Any]


class DaemonProcess:
    def __init__(self, workspace: Workspace, env: dict[str, str] | None = None) -> None:
        self.workspace = workspace
        self.stderr_path = workspace.root / "daemon.stderr"
        full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        for name in ("MECHANIC_CONFIG", "NOTIFY_SOCKET", "WATCHDOG_USEC", "JOURNAL_STREAM"):
            if name not in (env or {}):
                full_env.pop(name, None)
        # A file, not a pipe: a pipe nobody reads could fill and block the daemon.
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mechanic", "run", "--config", str(workspace.config_path)],
            cwd=workspace.root,
            env=full_env,
            stdout=self._stderr,
            stderr=self._stderr,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def log_path(self) -> Path:
        return self.workspace.state / "mechanic.log"

    def events(self) -> list[Event]:
        try:
            lines = self.log_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line being written right now
        return events

    def output(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(
        self, match: Callable[[Event], bool] | str, *, timeout: float = 30, after: int = 0
    ) -> Event:
        """The first event (from index `after`) that matches; fails after `timeout`."""
        predicate = (lambda e: e.get("event") == match) if isinstance(match, str) else match
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events()[after:]:
                if predicate(event):
                    return event
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"mechanic run exited ({self.proc.returncode}) while waiting:\n{self.output()}"
                )
            time.sleep(0.1)
        raise AssertionError(f"no matching event within {timeout} s; output:\n{self.output()}")

    def wait_until(self, condition: Callable[[], bool], *, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"mechanic run exited:\n{self.output()}")
            time.sleep(0.1)
        raise AssertionError(f"condition not met within {timeout} s; output:\n{self.output()}")

    def signal(self, signum: int = signal.SIGTERM) -> None:
        self.proc.send_signal(signum)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._stderr.close()
