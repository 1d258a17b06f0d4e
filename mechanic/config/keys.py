"""Every table and key config.toml accepts, with its type, default and check.

The loader (mechanic/config/load.py) validates a config against these tables;
each probe type adds its own keys (the `options` of probes/<type>.py).
"""

from __future__ import annotations

from mechanic.config.policy import (
    DEFAULT_EXCLUDE,
    DEFAULT_INCLUDE,
    DEFAULT_PROTECTED,
    DEFAULT_RUNTIME_ERRORS,
)
from mechanic.config.schema import (
    NUMBER,
    Key,
    check_command,
    check_errors,
    check_globs,
    http_url,
    in_range,
    not_empty,
    one_of,
    url,
)

BACKENDS = ("ollama", "embedded", "none")
APPLY_MODES = ("auto", "review")
REPAIR_MODES = ("auto", "whole", "block")
FILE_WATCHERS = ("auto", "polling", "off")
WEBHOOK_STYLES = ("json", "ntfy", "slack")
REMEDIATIONS = ("restart_pm2", "restart_systemd", "exec")
PYTHON_DIALECTS = ("auto", "3", "2")
ERRORLOG_LANGUAGES = ("auto", "python", "javascript")

DAY_SECONDS, WEEK_MINUTES, YEAR_HOURS = 86_400, 7 * 24 * 60, 366 * 24
SCHEMA: dict[str, dict[str, Key]] = {
    "mechanic": {
        "state_dir": Key((str,), "state", not_empty),
        "backup_dir": Key((str,), "backups", not_empty),
        "max_fixes_per_run": Key((int,), 3, in_range(0, 10_000)),
        "file_cooldown_hours": Key(NUMBER, 6, in_range(0, YEAR_HOURS)),
        "protected": Key((list,), [], check_globs),
        "default_protected": Key((list,), list(DEFAULT_PROTECTED), check_globs),
        "apply": Key((str,), "auto", one_of(APPLY_MODES)),
        "git_commit": Key((bool,), False, None),
        "max_file_kb": Key((int,), 1024, in_range(1, 1024 * 1024)),
        "node": Key((str,), "", None),
        "log_max_mb": Key(NUMBER, 5, in_range(0, 1024 * 1024, above=True)),
        "interval_minutes": Key(NUMBER, 10, in_range(0, WEEK_MINUTES, above=True)),
        "quiet_seconds": Key(NUMBER, 120, in_range(0, DAY_SECONDS)),
        "max_cycle_minutes": Key(NUMBER, 30, in_range(0, WEEK_MINUTES, above=True)),
        "file_watcher": Key((str,), "auto", one_of(FILE_WATCHERS)),
    },
    "llm": {
        "backend": Key((str,), "ollama", one_of(BACKENDS)),
        "host": Key((str,), "", url),
        "model": Key((str,), "qwen2.5-coder:7b", not_empty),
        "temperature": Key(NUMBER, 0.1, in_range(0, 2)),
        "think": Key((bool,), False, None),
        "timeout_seconds": Key(NUMBER, 120, in_range(0, DAY_SECONDS, above=True)),
        "num_ctx": Key((int,), 16384, in_range(512, 1024 * 1024)),
        "model_path": Key((str,), "", None),
        "threads": Key((int,), 1, in_range(1, 1024)),
    },
    "repair": {
        "mode": Key((str,), "auto", one_of(REPAIR_MODES)),
        "deterministic": Key((bool,), True, None),
    },
    # Where Layer 1's health alerts go (see mechanic/alerts.py).
    "alerts": {
        "webhook_url": Key((str,), "", http_url),
        "webhook_style": Key((str,), "json", one_of(WEBHOOK_STYLES)),
        "webhook_timeout_seconds": Key(NUMBER, 5, in_range(0, 3600, above=True)),
        "desktop": Key((bool,), False, None),
    },
}
# Keys every [[probe]] table takes; each probe type adds its own (probes/<type>.py).
PROBE_SCHEMA: dict[str, Key] = {
    "name": Key((str,), None, not_empty, required=True),
    "type": Key((str,), None, not_empty, required=True),
    "timeout_seconds": Key(NUMBER, 10, in_range(0, DAY_SECONDS, above=True)),
    "fail_cycles": Key((int,), 1, in_range(1, 10_000)),
    "remind_every_cycles": Key((int,), 0, in_range(0, 100_000)),
    "on_down": Key((dict,), None, None),
}
ON_DOWN_SCHEMA: dict[str, Key] = {
    "action": Key((str,), None, one_of(REMEDIATIONS), required=True),
    "app": Key((str,), "", None),
    "unit": Key((str,), "", None),
    "user": Key((bool,), False, None),
    "command": Key((list,), [], None),
    "max_actions": Key((int,), 3, in_range(1, 10_000)),
    "within_cycles": Key((int,), 5, in_range(1, 100_000)),
    "reset_after_cycles": Key((int,), 10, in_range(1, 100_000)),
    "timeout_seconds": Key(NUMBER, 60, in_range(0, DAY_SECONDS, above=True)),
}


WATCH_SCHEMA: dict[str, Key] = {
    "path": Key((str,), None, not_empty, required=True),
    "include": Key((list,), list(DEFAULT_INCLUDE), check_globs),
    "exclude": Key((list,), list(DEFAULT_EXCLUDE), check_globs),
    "test_cmd": Key((list, str), [], check_command),
    "smoke_cmd": Key((list, str), [], check_command),
    "test_timeout_seconds": Key(NUMBER, 300, in_range(0, DAY_SECONDS, above=True)),
    "test_memory_mb": Key((int,), 4096, in_range(64, 1024 * 1024)),
    "on_fix": Key((dict,), None, None),
    "python": Key((str,), "auto", one_of(PYTHON_DIALECTS)),
    "allow_large_root": Key((bool,), False, None),
}
# on_down's keys that bound a restart storm; a fix is no storm, so on_fix has none.
ON_DOWN_ONLY = ("max_actions", "within_cycles", "reset_after_cycles")

ERRORLOG_SCHEMA: dict[str, Key] = {
    "path": Key((str,), None, not_empty, required=True),
    "language": Key((str,), "auto", one_of(ERRORLOG_LANGUAGES)),
    "errors": Key((list,), list(DEFAULT_RUNTIME_ERRORS), check_errors),
    "max_age_minutes": Key(NUMBER, 60, in_range(0, YEAR_HOURS * 60, above=True)),
}
