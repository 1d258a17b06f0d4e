"""Loading and validating config.toml into typed, read-only settings.

Validation happens once, before any work: an unknown key, a wrong type or an
impossible value raises ConfigError naming the key, the file and the line.
Relative paths resolve against the config file's folder, so a config works the
same whatever the current directory of the service that runs it.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from mechanic.errors import ConfigError
from mechanic.files.private import make_folder
from mechanic.files.userfile import read_regular

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
BACKENDS = ("ollama", "embedded", "none")
APPLY_MODES = ("auto", "review")
REPAIR_MODES = ("auto", "whole", "block")
FILE_WATCHERS = ("auto", "polling", "off")
WEBHOOK_STYLES = ("json", "ntfy", "slack")
REMEDIATIONS = ("restart_pm2", "restart_systemd", "exec")
PYTHON_DIALECTS = ("auto", "3", "2")
# A root holding more watched files than this is most likely a mistake (a home
# folder, a disk), unless the [[watch]] says allow_large_root = true.
LARGE_ROOT_FILES = 20_000
DEFAULT_INCLUDE = ("**/*.py", "**/*.js", "**/*.mjs", "**/*.cjs")
DEFAULT_EXCLUDE = (
    "**/node_modules/**",
    "**/.git/**",
    "**/__pycache__/**",
    "**/.venv/**",
    "**/venv/**",
)
# Files that look like secrets are never read into a prompt nor written,
# whatever the config says: no setting (not even a "!" pattern) can make
# mechanic send a private key. Matched case-insensitively.
ALWAYS_PROTECTED = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_*",
    "*credential*",
    "*secret*",
    ".netrc",
    ".pgpass",
    ".npmrc",
    ".pypirc",
    ".htpasswd",
)
# Seed 001's forbidden paths: protected unless the config says otherwise
# (`default_protected = []`), so a user can see and change them.
DEFAULT_PROTECTED = ("migrations/", "secrets/", "auth/", "payment/", ".env")


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


# --- schema ---------------------------------------------------------------

Check = Callable[[Any], str | None]  # returns a problem, or None when fine


@dataclass(frozen=True)
class Key:
    types: tuple[type, ...]
    default: Any
    check: Check | None = None
    required: bool = False

    def type_name(self) -> str:
        names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
        names[dict] = "a table"
        if self.types == (int, float):
            return "a number"
        if self.types == (list,):
            return "a list of strings"
        if self.types == (list, str):
            return "a list of strings or a string"
        return " or ".join(names.get(t, t.__name__) for t in self.types)


# Numbers beyond any sane setting: also the bound on keys without a range of their own.
NUMBER_LIMIT = 1e15


def _fmt(bound: float) -> str:
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


def _shown(value: Any) -> str:
    """A value as a message quotes it, kept short. A huge integer is shown by its
    size: str() of one past 4,300 digits raises."""
    if isinstance(value, int) and abs(value) > NUMBER_LIMIT:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= 120 else text[:100] + "..."


def _range(low: float, high: float, *, above: bool = False) -> Check:
    """A finite number from `low` (excluded when `above`) to `high`: nan, inf and
    1e308 pass a bare `value > 0` test and then crash the arithmetic that uses them."""
    span = f"greater than {_fmt(low)} and at most" if above else f"from {_fmt(low)} to"
    span += f" {_fmt(high)}"

    def check(value: Any) -> str | None:
        # Comparisons, not math.isfinite(): that overflows on a huge TOML integer.
        # nan fails every comparison, so it is refused with the rest.
        fine = (value > low if above else value >= low) and value <= high
        if not fine:
            kind = "a finite number " if isinstance(value, float) else ""
            return f"must be {kind}{span}, got {_shown(value)}"
        return None

    return check


def _finite(value: Any) -> str | None:
    """The bound every number gets, whatever its own check says."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not -NUMBER_LIMIT <= value <= NUMBER_LIMIT:
        return (
            f"must be a finite number from {-NUMBER_LIMIT:g} to {NUMBER_LIMIT:g},"
            f" got {_shown(value)}"
        )
    return None


def _one_of(choices: tuple[str, ...]) -> Check:
    def check(value: Any) -> str | None:
        if value not in choices:
            return f"must be one of {', '.join(repr(c) for c in choices)}, got {value!r}"
        return None

    return check


def _not_empty(value: Any) -> str | None:
    return "must not be empty" if not str(value).strip() else None


def check_globs(value: Any) -> str | None:
    for item in value:
        if not isinstance(item, str):
            return f"must be a list of strings, found {type(item).__name__} {item!r}"
        if not item.strip():
            return "must not contain empty patterns"
        try:
            pathspec.PathSpec.from_lines("gitignore", [item])
        except Exception as exc:  # pathspec raises several types for bad patterns
            return f"has an invalid glob {item!r}: {exc}"
    return None


def _url(value: Any) -> str | None:
    if not re.match(r"^(https?://)?[\w.\-\[\]:]+(:\d+)?(/.*)?$", value):
        return f"is not a URL like http://127.0.0.1:11434, got {value!r}"
    return None


def _http_url(value: Any) -> str | None:
    if value and not re.match(r"^https?://[^\s/]+", value):
        return f"must be an http:// or https:// URL, got {value!r}"
    return None


NUMBER = (int, float)
DAY_SECONDS, WEEK_MINUTES, YEAR_HOURS = 86_400, 7 * 24 * 60, 366 * 24
SCHEMA: dict[str, dict[str, Key]] = {
    "mechanic": {
        "state_dir": Key((str,), "state", _not_empty),
        "backup_dir": Key((str,), "backups", _not_empty),
        "max_fixes_per_run": Key((int,), 3, _range(0, 10_000)),
        "file_cooldown_hours": Key(NUMBER, 6, _range(0, YEAR_HOURS)),
        "protected": Key((list,), [], check_globs),
        "default_protected": Key((list,), list(DEFAULT_PROTECTED), check_globs),
        "apply": Key((str,), "auto", _one_of(APPLY_MODES)),
        "git_commit": Key((bool,), False, None),
        "max_file_kb": Key((int,), 1024, _range(1, 1024 * 1024)),
        "node": Key((str,), "", None),
        "log_max_mb": Key(NUMBER, 5, _range(0, 1024 * 1024, above=True)),
        "interval_minutes": Key(NUMBER, 10, _range(0, WEEK_MINUTES, above=True)),
        "quiet_seconds": Key(NUMBER, 120, _range(0, DAY_SECONDS)),
        "max_cycle_minutes": Key(NUMBER, 30, _range(0, WEEK_MINUTES, above=True)),
        "file_watcher": Key((str,), "auto", _one_of(FILE_WATCHERS)),
    },
    "llm": {
        "backend": Key((str,), "ollama", _one_of(BACKENDS)),
        "host": Key((str,), "", _url),
        "model": Key((str,), "qwen2.5-coder:7b", _not_empty),
        "temperature": Key(NUMBER, 0.1, _range(0, 2)),
        "think": Key((bool,), False, None),
        "timeout_seconds": Key(NUMBER, 120, _range(0, DAY_SECONDS, above=True)),
        "num_ctx": Key((int,), 16384, _range(512, 1024 * 1024)),
        "model_path": Key((str,), "", None),
        "threads": Key((int,), 1, _range(1, 1024)),
    },
    "repair": {
        "mode": Key((str,), "auto", _one_of(REPAIR_MODES)),
        "deterministic": Key((bool,), True, None),
    },
    # Where Layer 1's health alerts go (see mechanic/alerts.py).
    "alerts": {
        "webhook_url": Key((str,), "", _http_url),
        "webhook_style": Key((str,), "json", _one_of(WEBHOOK_STYLES)),
        "webhook_timeout_seconds": Key(NUMBER, 5, _range(0, 3600, above=True)),
        "desktop": Key((bool,), False, None),
    },
}
# Keys every [[probe]] table takes; each probe type adds its own (probes/<type>.py).
PROBE_SCHEMA: dict[str, Key] = {
    "name": Key((str,), None, _not_empty, required=True),
    "type": Key((str,), None, _not_empty, required=True),
    "timeout_seconds": Key(NUMBER, 10, _range(0, DAY_SECONDS, above=True)),
    "fail_cycles": Key((int,), 1, _range(1, 10_000)),
    "remind_every_cycles": Key((int,), 0, _range(0, 100_000)),
    "on_down": Key((dict,), None, None),
}
ON_DOWN_SCHEMA: dict[str, Key] = {
    "action": Key((str,), None, _one_of(REMEDIATIONS), required=True),
    "app": Key((str,), "", None),
    "unit": Key((str,), "", None),
    "user": Key((bool,), False, None),
    "command": Key((list,), [], None),
    "max_actions": Key((int,), 3, _range(1, 10_000)),
    "within_cycles": Key((int,), 5, _range(1, 100_000)),
    "reset_after_cycles": Key((int,), 10, _range(1, 100_000)),
    "timeout_seconds": Key(NUMBER, 60, _range(0, DAY_SECONDS, above=True)),
}


def check_command(value: Any) -> str | None:
    """A command is an argv list, or a string split like a shell would (no shell runs)."""
    if isinstance(value, str):
        try:
            value = shlex.split(value)
        except ValueError as exc:
            return f"cannot be split into arguments: {exc}"
    if not value:
        return "must not be empty (leave the key out instead)"
    for item in value:
        if not isinstance(item, str) or not item:
            return f"must be a list of non-empty strings, found {item!r}"
    return None


def command_args(value: list[str] | str) -> tuple[str, ...]:
    return tuple(shlex.split(value) if isinstance(value, str) else value)


WATCH_SCHEMA: dict[str, Key] = {
    "path": Key((str,), None, _not_empty, required=True),
    "include": Key((list,), list(DEFAULT_INCLUDE), check_globs),
    "exclude": Key((list,), list(DEFAULT_EXCLUDE), check_globs),
    "test_cmd": Key((list, str), [], check_command),
    "smoke_cmd": Key((list, str), [], check_command),
    "test_timeout_seconds": Key(NUMBER, 300, _range(0, DAY_SECONDS, above=True)),
    "test_memory_mb": Key((int,), 4096, _range(64, 1024 * 1024)),
    "on_fix": Key((dict,), None, None),
    "python": Key((str,), "auto", _one_of(PYTHON_DIALECTS)),
    "allow_large_root": Key((bool,), False, None),
}
# on_down's keys that bound a restart storm; a fix is no storm, so on_fix has none.
ON_DOWN_ONLY = ("max_actions", "within_cycles", "reset_after_cycles")

ERRORLOG_LANGUAGES = ("auto", "python", "javascript")
# Exceptions that point at a defect in the code itself. Others (a deliberate
# `throw new Error(...)`, a refused connection, a missing file) are how a program
# reports its world, and a model "fixing" them would delete the report.
DEFAULT_RUNTIME_ERRORS = (
    "NameError",
    "UnboundLocalError",
    "AttributeError",
    "TypeError",
    "ImportError",
    "SyntaxError",
    "IndentationError",
    "TabError",
    "ReferenceError",
)


def _check_errors(value: Any) -> str | None:
    for item in value:
        if not isinstance(item, str) or not re.fullmatch(r"\*|[A-Za-z_][\w.]*", item):
            return f'must list exception names like "TypeError" (or "*"), found {item!r}'
    return None


ERRORLOG_SCHEMA: dict[str, Key] = {
    "path": Key((str,), None, _not_empty, required=True),
    "language": Key((str,), "auto", _one_of(ERRORLOG_LANGUAGES)),
    "errors": Key((list,), list(DEFAULT_RUNTIME_ERRORS), _check_errors),
    "max_age_minutes": Key(NUMBER, 60, _range(0, YEAR_HOURS * 60, above=True)),
}


# --- loading --------------------------------------------------------------


def platform_config_path() -> Path:
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "mechanic" / "config.toml"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mechanic" / "config.toml"


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The config to use: --config, then $MECHANIC_CONFIG, then ./config.toml,
    then the platform's config folder."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get("MECHANIC_CONFIG")
    if from_env:
        return Path(from_env).expanduser()
    candidates = [Path.cwd() / "config.toml", platform_config_path()]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise ConfigError(
        f"no config file found (looked at {looked}); pass --config or set MECHANIC_CONFIG"
    )


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file; raises ConfigError naming what is wrong."""
    source = Path(path).expanduser()
    try:
        raw = read_regular(source)
    except FileNotFoundError:
        raise ConfigError("config file not found", file=source) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", file=source) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config is not UTF-8 text (byte {exc.start})", file=source) from None
    return parse_config(text, source)


def parse_config(text: str, source: Path) -> Config:
    # A BOM is what some Windows editors put first; TOML itself forbids it.
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        raise ConfigError(
            f"invalid TOML: {exc}", file=source, line=int(match.group(1)) if match else None
        ) from None
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ConfigError(
            "invalid TOML: arrays or inline tables nested too deeply",
            file=source,
            line=_deep_line(text),
        ) from None
    except ValueError as exc:  # an integer past Python's 4,300-digit conversion limit
        raise ConfigError(f"invalid TOML: {exc}", file=source) from None
    return _Validator(text, source).build(data)


def _deep_line(text: str, depth: int = 100) -> int | None:
    """The first line where brackets open `depth` deep (strings are not told apart:
    it only points a person at the spot)."""
    level = 0
    for number, line in enumerate(text.splitlines(), 1):
        for char in line:
            level += (char in "[{") - (char in "]}")
            if level >= depth:
                return number
    return None


class _Validator:
    def __init__(self, text: str, source: Path) -> None:
        self.lines = text.splitlines()
        self.source = source
        self.base = source.parent

    def fail(self, key: str, message: str, table: str | None, name: str | None, index=None):
        line = self._locate(table, name, index)
        if line is None and table is not None and index is not None:
            line = self._locate(table, None, index)  # at least the table's header
        raise ConfigError(message, key=key, file=self.source, line=line)

    def build(self, data: dict[str, Any]) -> Config:
        for table in data:
            if table not in SCHEMA and table not in ("watch", "errorlog", "probe"):
                self.fail(table, "unknown table or key", None, table)
        sections = {name: self._section(data, name) for name in SCHEMA}
        mech, llm = sections["mechanic"], sections["llm"]
        host = llm["host"] or os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST
        return Config(
            source=self.source,
            mechanic=MechanicSettings(
                state_dir=self._path(mech["state_dir"]),
                backup_dir=self._path(mech["backup_dir"]),
                max_fixes_per_run=mech["max_fixes_per_run"],
                file_cooldown_hours=float(mech["file_cooldown_hours"]),
                # The defaults come first, so a user's "!auth/" can lift one of them.
                protected=(*mech["default_protected"], *mech["protected"]),
                max_file_kb=mech["max_file_kb"],
                node=mech["node"] or None,
                log_max_mb=float(mech["log_max_mb"]),
                interval_minutes=float(mech["interval_minutes"]),
                quiet_seconds=float(mech["quiet_seconds"]),
                max_cycle_minutes=float(mech["max_cycle_minutes"]),
                file_watcher=mech["file_watcher"],
                default_protected=tuple(mech["default_protected"]),
                apply=mech["apply"],
                git_commit=mech["git_commit"],
            ),
            llm=LLMSettings(
                backend=llm["backend"],
                host=host,
                model=llm["model"],
                temperature=float(llm["temperature"]),
                think=llm["think"],
                timeout_seconds=float(llm["timeout_seconds"]),
                num_ctx=llm["num_ctx"],
                model_path=self._path(llm["model_path"]) if llm["model_path"] else None,
                threads=llm["threads"],
            ),
            repair=RepairSettings(
                mode=sections["repair"]["mode"],
                deterministic=sections["repair"]["deterministic"],
            ),
            watches=self._watches(data.get("watch", [])),
            errorlogs=self._errorlogs(data.get("errorlog", [])),
            probes=self._probes(data.get("probe", []), host, llm["model"]),
            alerts=AlertSettings(**sections["alerts"]),
        )

    def _section(self, data: dict[str, Any], name: str) -> dict[str, Any]:
        table = data.get(name, {})
        if not isinstance(table, dict):
            self.fail(name, "must be a table like [" + name + "]", None, name)
        return self._keys(table, SCHEMA[name], name, name, None)

    def _keys(self, table: dict, schema: dict[str, Key], prefix: str, header, index, sep="."):
        values: dict[str, Any] = {}
        for name in table:
            if name not in schema:
                known = ", ".join(schema)
                self.fail(
                    f"{prefix}{sep}{name}",
                    f"unknown key (known keys: {known})",
                    header,
                    name,
                    index,
                )
        for name, key in schema.items():
            dotted = f"{prefix}{sep}{name}"
            if name not in table:
                if key.required:
                    self.fail(dotted, "is required", header, None, index)
                values[name] = key.default
                continue
            value = table[name]
            wrong_type = not isinstance(value, key.types) or (
                isinstance(value, bool) and bool not in key.types
            )
            if wrong_type:
                self.fail(
                    dotted,
                    f"must be {key.type_name()}, got {type(value).__name__} {_shown(value)}",
                    header,
                    name,
                    index,
                )
            problem = (key.check(value) if key.check else None) or _finite(value)
            if problem:
                self.fail(dotted, problem, header, name, index)
            values[name] = value
        return values

    def _tables(self, raw: Any, name: str, example: str) -> list[dict]:
        """An array of tables ([[name]]), or a ConfigError saying what was found instead."""
        shape = f"must be an array of tables written [[{name}]] (each with {example})"
        if not isinstance(raw, list):
            self.fail(name, f"{shape}, found {type(raw).__name__} {_shown(raw)}", None, name)
        for index, table in enumerate(raw):
            if not isinstance(table, dict):
                found = f"{type(table).__name__} {_shown(table)}"
                self.fail(f"{name}[{index}]", f"{shape}, found {found}", None, name)
        return raw

    def _watches(self, raw: Any) -> tuple[WatchRoot, ...]:
        raw = self._tables(raw, "watch", 'path = "src"')
        if not raw:
            self.fail(
                "watch",
                "no [[watch]] table: mechanic would watch nothing"
                ' (add a [[watch]] with path = "...")',
                None,
                None,
            )
        roots = []
        for index, table in enumerate(raw):
            values = self._keys(table, WATCH_SCHEMA, f"watch[{index}]", "watch", index)
            path = self._path(values["path"])
            if not path.is_dir():
                problem = "does not exist" if not path.exists() else "is not a folder"
                self.fail(f"watch[{index}].path", f"{path} {problem}", "watch", "path", index)
            if not values["include"]:
                self.fail(
                    f"watch[{index}].include",
                    "is empty: this root would watch nothing",
                    "watch",
                    "include",
                    index,
                )
            whole = _whole_disk_or_home(path)
            if whole and not values["allow_large_root"]:
                self.fail(
                    f"watch[{index}].allow_large_root",
                    f"watch[{index}].path is {whole}: set allow_large_root = true in this"
                    " [[watch]] to watch all of it, or point path at the code itself",
                    "watch",
                    "path",
                    index,
                )
            roots.append(
                WatchRoot(
                    path=path,
                    include=tuple(values["include"]),
                    exclude=tuple(values["exclude"]),
                    test_cmd=command_args(values["test_cmd"]),
                    smoke_cmd=command_args(values["smoke_cmd"]),
                    test_timeout_seconds=float(values["test_timeout_seconds"]),
                    test_memory_mb=values["test_memory_mb"],
                    on_fix=self._on_fix(values["on_fix"], index),
                    python=values["python"],
                    allow_large_root=values["allow_large_root"],
                )
            )
        return tuple(roots)

    def _on_fix(self, table: dict | None, index: int) -> Remediation | None:
        if table is None:
            return None
        label = f"watch[{index}].on_fix"
        for key in ON_DOWN_ONLY:
            if key in table:
                line = self._locate("watch", "on_fix", index)
                detail = "is only for a probe's on_down (a fix is no restart storm)"
                raise ConfigError(detail, key=f"{label}.{key}", file=self.source, line=line)
        return self._remediation(table, label, index, table_name="watch", key="on_fix")

    def _errorlogs(self, raw: Any) -> tuple[ErrorLog, ...]:
        raw = self._tables(raw, "errorlog", 'path = "logs/*.log"')
        logs = []
        for index, table in enumerate(raw):
            values = self._keys(table, ERRORLOG_SCHEMA, f"errorlog[{index}]", "errorlog", index)
            logs.append(
                ErrorLog(
                    path=str(self._path(values["path"])),
                    language=values["language"],
                    errors=tuple(values["errors"]),
                    max_age_minutes=float(values["max_age_minutes"]),
                )
            )
        return tuple(logs)

    def _probes(self, raw: Any, llm_host: str, llm_model: str) -> tuple[ProbeSpec, ...]:
        """[[probe]] tables; each type validates its own keys (probes/<type>.py)."""
        from mechanic.errors import ProbeConfigError
        from probes import REGISTRY
        from probes.base import ConfigContext

        raw = self._tables(raw, "probe", 'name = "db" and type = "tcp"')
        ctx = ConfigContext(base=self.base, llm_host=llm_host, llm_model=llm_model)
        specs: list[ProbeSpec] = []
        seen: set[str] = set()
        for index, table in enumerate(raw):
            common = {k: v for k, v in table.items() if k in PROBE_SCHEMA}
            label = f"probe[{index}]"
            if isinstance(table.get("name"), str) and table["name"].strip():
                label = f'[[probe]] "{table["name"]}"'
            values = self._keys(common, PROBE_SCHEMA, label, "probe", index, sep=": ")
            if values["name"] in seen:
                self.fail(f"{label}: name", "is used by another probe", "probe", "name", index)
            seen.add(values["name"])
            cls = REGISTRY.get(values["type"])
            if cls is None:
                known = ", ".join(sorted(REGISTRY))
                self.fail(
                    f"{label}: type",
                    f"unknown probe type {values['type']!r} (known: {known})",
                    "probe",
                    "type",
                    index,
                )
            own = {k: v for k, v in table.items() if k not in PROBE_SCHEMA}
            options = self._keys(own, cls.options, label, "probe", index, sep=": ")
            try:
                options = cls.prepare(options, ctx)
            except ProbeConfigError as exc:
                self.fail(f"{label}: {exc.key}", exc.detail, "probe", exc.key, index)
            on_down = None
            if values["on_down"] is not None:
                on_down = self._remediation(values["on_down"], f"{label}: on_down", index)
            specs.append(
                ProbeSpec(
                    name=values["name"],
                    type=values["type"],
                    timeout_seconds=float(values["timeout_seconds"]),
                    fail_cycles=values["fail_cycles"],
                    remind_every_cycles=values["remind_every_cycles"],
                    on_down=on_down,
                    options=options,
                )
            )
        return tuple(specs)

    def _remediation(
        self,
        table: dict,
        label: str,
        index: int,
        *,
        table_name: str = "probe",
        key: str = "on_down",
    ) -> Remediation:
        try:
            return self._check_remediation(table, label, index, table_name)
        except ConfigError as exc:
            # Point at `on_down = {...}` (an inline table's keys have no line of their own).
            line = self._locate(table_name, key, index) or exc.line
            raise ConfigError(exc.detail, key=exc.key, file=self.source, line=line) from None

    def _check_remediation(
        self, table: dict, label: str, index: int, table_name: str = "probe"
    ) -> Remediation:
        values = self._keys(table, ON_DOWN_SCHEMA, label, table_name, index)
        needs = {"restart_pm2": "app", "restart_systemd": "unit", "exec": "command"}
        needed = needs[values["action"]]
        if not values[needed]:
            self.fail(
                f"{label}.{needed}",
                f"is required by action {values['action']!r}",
                table_name,
                None,
                index,
            )
        command = values["command"]
        if any(not isinstance(part, str) or not part for part in command):
            self.fail(
                f"{label}.command",
                "must be a list of non-empty strings (no shell)",
                table_name,
                None,
                index,
            )
        values["command"] = tuple(command)
        return Remediation(**values)

    def _path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.base / path)

    def _locate(self, table: str | None, key: str | None, index: int | None) -> int | None:
        """Best-effort line number of `key` in `[table]` (or the index-th [[table]])."""
        start, seen = 0, -1
        if table is not None:
            header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
            for number, line in enumerate(self.lines):
                if header.match(line):
                    seen += 1
                    if index is None or seen == index:
                        start = number
                        break
            else:
                return None
            if key is None:
                return start + 1
        if key is None:
            return None
        pattern = re.compile(rf"^\s*(\"{re.escape(key)}\"|{re.escape(key)})\s*=")
        table_header = re.compile(rf"^\s*\[\[?\s*{re.escape(key)}\s*[\].]")
        for number in range(start, len(self.lines)):
            line = self.lines[number]
            if number > start and table is not None and line.lstrip().startswith("["):
                break
            if pattern.match(line) or (table is None and table_header.match(line)):
                return number + 1
        return None


def _whole_disk_or_home(path: Path) -> str | None:
    real = Path(os.path.realpath(path))
    if real == Path(real.anchor):
        return f"{real} (the whole disk)"
    if real == Path(os.path.realpath(Path.home())):
        return f"{real} (the home folder)"
    return None


def located_error(config: Config, key: str, message: str, table: str, index: int) -> ConfigError:
    """A ConfigError about `key` of the index-th [[table]], with its line when found."""
    line = None
    try:
        text = config.source.read_text(encoding="utf-8", errors="replace")
        validator = _Validator(text, config.source)
        line = validator._locate(table, key.rsplit(".", 1)[-1], index)
        line = line or validator._locate(table, None, index)
    except OSError:
        pass
    return ConfigError(message, key=key, file=config.source, line=line)


# --- the folders mechanic writes ---------------------------------------------


def check_folders(config: Config) -> None:
    """Make sure `state_dir` (created here) and `backup_dir` can be written.

    Raises ConfigError naming the key, before any work: a state folder that is a
    file, or sits on a read-only mount, would otherwise surface as a traceback from
    whichever step first writes there. Permission bits alone prove nothing (root
    ignores them), so an existing folder is tested by creating a file in it.
    """
    settings = config.mechanic
    folders = (("state_dir", settings.state_dir, True), ("backup_dir", settings.backup_dir, False))
    for name, path, create in folders:
        problem = _folder_problem(path, create=create)
        if problem:
            line = None
            try:
                lines = config.source.read_text(encoding="utf-8", errors="replace")
                line = _Validator(lines, config.source)._locate("mechanic", name, None)
            except OSError:
                pass
            raise ConfigError(problem, key=f"mechanic.{name}", file=config.source, line=line)


def _folder_problem(path: Path, *, create: bool) -> str | None:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "is" if existing == path else f"cannot be made: {existing}, on its way, is"
        return f"{path} {what} a file, not a folder"
    if existing != path and not create:
        # Not created yet (the first fix makes it): judge the folder it will be made in.
        if not os.access(existing, os.W_OK | os.X_OK) or _read_only_mount(existing):
            return f"{path} cannot be made: {existing} is read-only"
        return None
    try:
        make_folder(path)  # 0700 like every folder mechanic makes: it will hold copies of code
    except OSError as exc:
        return f"{path} cannot be created: {exc.strerror or exc}"
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".mechanic-write-test-"):
            pass
    except OSError as exc:
        return f"{path} cannot be written in: {exc.strerror or exc}"
    return None


def _read_only_mount(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False
