"""Helpers for the probe tests: [[probe]] tables as TOML, and cycles run in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mechanic.config.load import load_config
from mechanic.config.settings import Config
from mechanic.cycle import CycleReport, run_cycle
from mechanic.store import Store
from tests.support.workspace import Workspace, _toml


def probe_toml(name: str, type_: str, *, on_down: str = "", **keys: Any) -> str:
    lines = ["[[probe]]", f"name = {_toml(name)}", f"type = {_toml(type_)}"]
    lines += [f"{key} = {_toml(value)}" for key, value in keys.items()]
    if on_down:
        lines.append(f"on_down = {on_down}")
    return "\n".join(lines) + "\n\n"


def configure(space: Workspace, *probes: str, alerts: dict[str, Any] | None = None) -> Config:
    raw = "\n" + "".join(probes)
    if alerts:
        raw += "[alerts]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in alerts.items())
    space.write_config(raw=raw)
    return load_config(space.config_path)


def cycle(config: Config) -> CycleReport:
    with Store.open(config.mechanic.state_dir) as store:
        return run_cycle(config, store)


def outcome(report: CycleReport, name: str):
    return next(o for o in report.probes if o.result.name == name)


def read_everything(space: Workspace) -> str:
    """Every byte mechanic wrote to its state folder (log, database)."""
    return "".join(
        p.read_bytes().decode("utf-8", "replace")
        for p in Path(space.state).rglob("*")
        if p.is_file()
    )
