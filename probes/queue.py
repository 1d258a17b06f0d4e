"""`queue`: a backlog's size, from a database (`dsn` + `query`) or a folder
(`path` + `glob`); degraded when it has grown `grow_cycles` cycles in a row (a
queue that stopped draining), or when it is above `max`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from mechanic.config.schema import Key
from mechanic.errors import ProbeConfigError
from mechanic.plural import plural
from probes.base import (
    PROBES,
    ConfigContext,
    Metric,
    Probe,
    ProbeResult,
    degraded,
    down,
    dsn_password,
    ok,
)
from probes.postgres import describe, query_first_value


@PROBES.register("queue")
class QueueProbe(Probe):
    type = "queue"
    options: ClassVar[dict[str, Key]] = {
        "dsn": Key((str,), ""),
        "query": Key((str,), ""),
        "path": Key((str,), ""),
        "glob": Key((str,), "*"),
        "grow_cycles": Key((int,), 3),
        "max": Key((int,), None),
    }
    path_options = ("path",)

    @classmethod
    def prepare(cls, values: dict[str, Any], ctx: ConfigContext) -> dict[str, Any]:
        if bool(values["dsn"]) == bool(values["path"]):
            raise ProbeConfigError("dsn", "set either dsn (with query) or path (with glob)")
        if values["dsn"] and not values["query"]:
            raise ProbeConfigError("query", "is required with dsn (e.g. SELECT COUNT(*) FROM jobs)")
        if values["grow_cycles"] < 1:
            raise ProbeConfigError("grow_cycles", "must be at least 1")
        return super().prepare(values, ctx)

    def secrets(self) -> list[str]:
        password = dsn_password(self.opts["dsn"]) if self.opts["dsn"] else None
        return [password] if password else []

    def _count(self) -> int | ProbeResult:
        if self.opts["dsn"]:
            import psycopg

            try:
                value = query_first_value(self.opts["dsn"], self.opts["query"], self.timeout)
                return int(value)
            except psycopg.Error as exc:
                return down(f"cannot count the queue: {describe(exc)}")
            except (TypeError, ValueError):
                return down(f"the queue query returned {value!r}, not a count")
        path = Path(self.opts["path"])
        if not path.is_dir():
            return down(f"queue folder {path} does not exist")
        return sum(1 for p in path.glob(self.opts["glob"]) if p.is_file())

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        count = self._count()
        if isinstance(count, ProbeResult):
            return count
        before = previous.get("count")
        streak = previous.get("grew_cycles", 0) if isinstance(before, int) else 0
        streak = (int(streak or 0) + 1) if isinstance(before, int) and count > before else 0
        metrics: dict[str, Metric] = {"count": count, "grew_cycles": streak}
        if self.opts["max"] is not None and count > self.opts["max"]:
            return degraded(f"{count} queued, above max {self.opts['max']}", **metrics)
        if streak >= self.opts["grow_cycles"]:
            return degraded(
                f"{count} queued, grown {plural(streak, 'cycle')} in a row: not draining", **metrics
            )
        trend = f" (was {before})" if isinstance(before, int) and before != count else ""
        return ok(f"{count} queued{trend}", **metrics)
