"""The one small interface every probe type implements, and what a probe returns.

A probe type is a class with a `type` name, the config keys it accepts (`options`,
validated by mechanic/config/load.py before any work) and a `check()` that looks at one
component and returns a ProbeResult. Probes never raise on purpose: a target that
is absent is `down` with a message saying so; `error` means the probe itself could
not judge (a tool missing, a probe bug). The runner bounds each check by its
timeout and scrubs secrets from what comes back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from mechanic.config.schema import Key
from mechanic.config.settings import ProbeSpec
from mechanic.redact import scrub
from mechanic.registry import Registry

STATUSES = ("ok", "degraded", "down", "error")
Metric = int | float | str | bool | None


@dataclass(frozen=True)
class ProbeResult:
    status: str  # ok | degraded | down | error
    message: str
    latency_ms: float = 0.0
    metrics: dict[str, Metric] = field(default_factory=dict)
    name: str = ""  # filled in by the runner
    type: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown probe status {self.status!r}")

    def scrubbed(self, secrets: list[str]) -> ProbeResult:
        metrics = {
            k: scrub(v, secrets) if isinstance(v, str) else v for k, v in self.metrics.items()
        }
        return replace(self, message=scrub(self.message, secrets), metrics=metrics)


def ok(message: str, **metrics: Metric) -> ProbeResult:
    return ProbeResult("ok", message, metrics=metrics)


def degraded(message: str, **metrics: Metric) -> ProbeResult:
    return ProbeResult("degraded", message, metrics=metrics)


def down(message: str, **metrics: Metric) -> ProbeResult:
    return ProbeResult("down", message, metrics=metrics)


def error(message: str, **metrics: Metric) -> ProbeResult:
    return ProbeResult("error", message, metrics=metrics)


@dataclass(frozen=True)
class ConfigContext:
    """What a probe may need from the rest of the config while validating."""

    base: Path  # the config file's folder: relative paths resolve against it
    llm_host: str
    llm_model: str

    def path(self, value: str) -> str:
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else self.base / path)


class Probe:
    """One configured check of one component."""

    type: ClassVar[str] = ""
    options: ClassVar[dict[str, Key]] = {}
    path_options: ClassVar[tuple[str, ...]] = ()  # resolved against the config folder

    def __init__(self, spec: ProbeSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.timeout = spec.timeout_seconds
        self.opts: Mapping[str, Any] = spec.options

    @classmethod
    def prepare(cls, values: dict[str, Any], ctx: ConfigContext) -> dict[str, Any]:
        """Cross-key checks and defaults; raise ProbeConfigError(key, message)."""
        for key in cls.path_options:
            if values.get(key):
                values[key] = ctx.path(values[key])
        return values

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        """Look at the component once. `previous` holds the metrics of this probe's
        last cycle (empty the first time), for probes that compare across cycles."""
        raise NotImplementedError

    def secrets(self) -> list[str]:
        """Strings that must never leave the probe (passwords, tokens)."""
        return []


# Every probe type, by the `type` of its [[probe]] tables: each module registers
# its class with @PROBES.register(type); importing `probes` imports them all.
PROBES: Registry[type[Probe]] = Registry("probe type")


# --- secrets (what a secret looks like is mechanic/redact.py's alone) ------


def dsn_password(dsn: str) -> str | None:
    """The password a libpq DSN (URL or key=value) carries, if any."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        password = conninfo_to_dict(dsn).get("password")
        return str(password) if password else None  # libpq values are strings
    except Exception:  # a malformed DSN: psycopg reports it when connecting
        match = re.search(r"://[^/:@]*:([^@/]+)@|password\s*=\s*'?([^\s']+)", dsn)
        return (match.group(1) or match.group(2)) if match else None


def elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
