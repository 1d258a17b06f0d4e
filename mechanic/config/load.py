"""Finding, reading and validating config.toml into Config (config/settings.py).

Validation happens once, before any work: an unknown key, a wrong type or an
impossible value raises ConfigError naming the key, the file and the line.
Relative paths resolve against the config file's folder, so a config works the
same whatever the current directory of the service that runs it.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from mechanic.config.keys import (
    ERRORLOG_SCHEMA,
    ON_DOWN_ONLY,
    ON_DOWN_SCHEMA,
    PROBE_SCHEMA,
    SCHEMA,
    WATCH_SCHEMA,
)
from mechanic.config.locate import locate
from mechanic.config.policy import DEFAULT_OLLAMA_HOST
from mechanic.config.schema import Key, command_args, finite, shown
from mechanic.config.settings import (
    AlertSettings,
    Config,
    ErrorLog,
    LLMSettings,
    MechanicSettings,
    ProbeSpec,
    Remediation,
    RepairSettings,
    WatchRoot,
)
from mechanic.errors import ConfigError, ProbeConfigError
from mechanic.files.userfile import read_regular
from mechanic.registry import UnknownName
from probes import REGISTRY
from probes.base import ConfigContext


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
                    f"must be {key.type_name()}, got {type(value).__name__} {shown(value)}",
                    header,
                    name,
                    index,
                )
            problem = (key.check(value) if key.check else None) or finite(value)
            if problem:
                self.fail(dotted, problem, header, name, index)
            values[name] = value
        return values

    def _tables(self, raw: Any, name: str, example: str) -> list[dict]:
        """An array of tables ([[name]]), or a ConfigError saying what was found instead."""
        shape = f"must be an array of tables written [[{name}]] (each with {example})"
        if not isinstance(raw, list):
            self.fail(name, f"{shape}, found {type(raw).__name__} {shown(raw)}", None, name)
        for index, table in enumerate(raw):
            if not isinstance(table, dict):
                found = f"{type(table).__name__} {shown(table)}"
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
            try:
                cls = REGISTRY.get(values["type"])
            except UnknownName as exc:
                self.fail(f"{label}: type", str(exc), "probe", "type", index)
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
        return locate(self.lines, table, key, index)


def _whole_disk_or_home(path: Path) -> str | None:
    real = Path(os.path.realpath(path))
    if real == Path(real.anchor):
        return f"{real} (the whole disk)"
    if real == Path(os.path.realpath(Path.home())):
        return f"{real} (the home folder)"
    return None
