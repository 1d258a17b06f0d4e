"""The settings a loaded config.toml gives: typed, read-only dataclasses.

mechanic/config/load.py builds them (finding, reading and validating the file);
every other module only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mechanic.config.policy import DEFAULT_PROTECTED


@dataclass(frozen=True)
class MechanicSettings:
    state_dir: Path
    backup_dir: Path
    max_fixes_per_run: int
    file_cooldown_hours: float
    protected: tuple[str, ...]
    max_file_kb: int
    node: str | None
    log_max_mb: float
    # The daemon (`mechanic run`): a full cycle every interval_minutes, and a file
    # changed on disk is repaired only once it has been quiet for quiet_seconds.
    interval_minutes: float = 10
    quiet_seconds: float = 120
    # A cycle running longer than this is stuck (a hung checker, test or probe):
    # the daemon stops its systemd watchdog pings so systemd restarts it.
    max_cycle_minutes: float = 30
    file_watcher: str = "auto"
    default_protected: tuple[str, ...] = DEFAULT_PROTECTED  # already part of `protected`
    # "auto" writes a validated fix; "review" keeps it as a pending patch for a person.
    apply: str = "auto"
    git_commit: bool = False  # each applied fix its own commit, in a git work tree


@dataclass(frozen=True)
class LLMSettings:
    backend: str
    host: str
    model: str
    temperature: float
    think: bool
    timeout_seconds: float
    num_ctx: int
    model_path: Path | None
    threads: int


@dataclass(frozen=True)
class RepairSettings:
    mode: str
    deterministic: bool = True  # try the zero-token rung before any model


@dataclass(frozen=True)
class WatchRoot:
    path: Path
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    # Validation by tests (mechanic/repair/runtests.py): argv lists, run in a throwaway copy.
    test_cmd: tuple[str, ...] = ()
    smoke_cmd: tuple[str, ...] = ()
    test_timeout_seconds: float = 300.0
    test_memory_mb: int = 4096
    # What to do once a fix is applied under this root (a restart, as on_down does).
    on_fix: Remediation | None = None
    # "auto": a file that is consistently Python 2 is held, not repaired; "2": such
    # files are not reported at all; "3": every file is judged as Python 3.
    python: str = "auto"
    allow_large_root: bool = False  # needed to watch / or ~, or more than LARGE_ROOT_FILES


@dataclass(frozen=True)
class ErrorLog:
    """An [[errorlog]] table: log files tailed for runtime errors (mechanic/detect/errorlog.py)."""

    path: str  # a glob, `~` expanded, absolute
    language: str  # "auto" | "python" | "javascript"
    errors: tuple[str, ...]  # exception names acted on; ("*",) = any
    max_age_minutes: float


@dataclass(frozen=True)
class Remediation:
    """`on_down` of a probe: what to do while it is down, and how often at most."""

    action: str  # restart_pm2 | restart_systemd | exec
    app: str = ""
    unit: str = ""
    user: bool = False
    command: tuple[str, ...] = ()
    max_actions: int = 3
    within_cycles: int = 5
    reset_after_cycles: int = 10
    timeout_seconds: float = 60


@dataclass(frozen=True)
class ProbeSpec:
    """One [[probe]] table; `options` holds its type's own keys, validated."""

    name: str
    type: str
    timeout_seconds: float = 10
    fail_cycles: int = 1
    remind_every_cycles: int = 0
    on_down: Remediation | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertSettings:
    webhook_url: str = ""
    webhook_style: str = "json"  # json | ntfy | slack
    webhook_timeout_seconds: float = 5
    desktop: bool = False


@dataclass(frozen=True)
class Config:
    source: Path
    mechanic: MechanicSettings
    llm: LLMSettings
    repair: RepairSettings
    watches: tuple[WatchRoot, ...] = field(default_factory=tuple)
    errorlogs: tuple[ErrorLog, ...] = field(default_factory=tuple)
    probes: tuple[ProbeSpec, ...] = field(default_factory=tuple)
    alerts: AlertSettings = field(default_factory=AlertSettings)
