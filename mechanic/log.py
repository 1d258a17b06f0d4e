"""Logging: structlog events, as JSON lines in state_dir/mechanic.log (rotated
by size) and as readable lines on the console."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

import structlog

from mechanic.files import private
from mechanic.files.names import for_json
from mechanic.redact import scrub

LOG_NAME = "mechanic.log"
_LIBRARIES = ("apscheduler",)
_PRIORITY = {"critical": 2, "error": 3, "warning": 4, "info": 6, "debug": 7}


def _names(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """File names `shown` (a name that is not UTF-8, or holds a newline, would
    make the log invalid UTF-8 or forge a line), other text `readable`."""
    return for_json(event)


def scrub_secrets(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Every text field of every event, through the one redaction (mechanic/redact.py):
    a checker message, a reason or a diff never writes a secret to the log."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = scrub(value)
        elif isinstance(value, (list, tuple)) and any(isinstance(v, str) for v in value):
            event[key] = [scrub(v) if isinstance(v, str) else v for v in value]
    return event


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=False),
    _names,
    scrub_secrets,
]


def configure(
    state_dir: Path | None,
    *,
    console: TextIO | None = sys.stderr,
    level: int = logging.INFO,
    max_mb: float = 5,
    journal: bool = False,
) -> None:
    """Send events to the log file (when state_dir is given) and to `console`.

    With `journal`, console lines are written for systemd's journal: a syslog
    priority prefix (`<3>` for errors, so `journalctl -p err` finds them) and
    no timestamp of their own, since the journal stamps every line."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger("mechanic")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)
    root.propagate = False
    if state_dir is not None:
        private.make_folder(state_dir)
        file_handler = _PrivateRotatingHandler(
            state_dir / LOG_NAME, maxBytes=int(max_mb * 1024 * 1024), backupCount=3
        )
        for number in range(1, file_handler.backupCount + 1):
            private.narrow_existing(state_dir / f"{LOG_NAME}.{number}")
        file_handler.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                processor=structlog.processors.JSONRenderer(), foreign_pre_chain=_SHARED
            )
        )
        root.addHandler(file_handler)
    if console is not None:
        console_handler = logging.StreamHandler(console)
        colors = hasattr(console, "isatty") and console.isatty()
        if journal:
            formatter = structlog.stdlib.ProcessorFormatter(
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    journal_renderer,
                ],
                foreign_pre_chain=_SHARED,
            )
        else:
            formatter = structlog.stdlib.ProcessorFormatter(
                processor=structlog.dev.ConsoleRenderer(colors=colors, sort_keys=False),
                foreign_pre_chain=_SHARED,
            )
        console_handler.setFormatter(formatter)
        root.addHandler(console_handler)
    # Libraries mechanic runs on (the scheduler) log through the same handlers.
    for name in _LIBRARIES:
        library = logging.getLogger(name)
        library.handlers = list(root.handlers)
        library.setLevel(logging.WARNING)
        library.propagate = False


class _PrivateRotatingHandler(logging.handlers.RotatingFileHandler):
    """The log, 0600: its error messages quote users' code. Rotated logs are
    renames of it, so they keep that; older ones made wider are narrowed too."""

    def _open(self):
        private.own_file(Path(self.baseFilename))  # before the handler opens it: never 0644
        return super()._open()


def format_line(line: str) -> str:
    """One JSON log line as a readable line; anything else passes through."""
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return line.rstrip("\n")
    if not isinstance(event, dict):
        return line.rstrip("\n")
    stamp = str(event.pop("timestamp", ""))[:19].replace("T", " ")
    level = str(event.pop("level", "")).upper()
    name = str(event.pop("event", ""))
    rest = " ".join(f"{key}={_value(value)}" for key, value in event.items())
    return f"{stamp} {level:<7} {name:<18} {rest}".rstrip()


def _value(value: Any) -> str:
    text = str(value)
    return json.dumps(text) if (" " in text or not text) else text


def journal_renderer(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> str:
    """`<6>cycle.done cycle=3 files=120 ...`: one line per event for the journal."""
    event = dict(event)
    event.pop("timestamp", None)
    level = str(event.pop("level", "info"))
    name = str(event.pop("event", ""))
    exc = event.pop("exception", None)
    rest = " ".join(f"{key}={_value(value)}" for key, value in event.items() if value is not None)
    line = f"<{_PRIORITY.get(level, 6)}>{name} {rest}".rstrip()
    if exc:
        line += "\n" + str(exc)
    return line


def under_journal(stream: TextIO = sys.stderr) -> bool:
    """True when `stream` is connected to systemd's journal ($JOURNAL_STREAM)."""
    import os

    expected = os.environ.get("JOURNAL_STREAM", "")
    if not expected:
        return False
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return expected == f"{info.st_dev}:{info.st_ino}"
