"""`postgres`: the database accepts a connection and, optionally, a query's first
value lies within `min`/`max` (e.g. `SELECT COUNT(*) FROM tools_db`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mechanic.config.schema import Key
from mechanic.errors import ProbeConfigError
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

NUMBER = (int, float)


def query_first_value(dsn: str, query: str, timeout: float) -> Any:
    """Connect and return the first column of the first row (None without a row).
    Raises psycopg.Error; shared with the `queue` probe."""
    import psycopg

    # libpq's connect_timeout is whole seconds and at least 2.
    with psycopg.connect(dsn, connect_timeout=max(2, int(timeout)), autocommit=True) as conn:
        conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")
        row = conn.execute(query).fetchone()
    return row[0] if row else None


def describe(exc: Exception) -> str:
    """psycopg's message, first line only (the rest repeats the server's hints)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@PROBES.register("postgres")
class PostgresProbe(Probe):
    type = "postgres"
    options: ClassVar[dict[str, Key]] = {
        "dsn": Key((str,), None, required=True),
        "query": Key((str,), "SELECT 1"),
        "min": Key(NUMBER, None),
        "max": Key(NUMBER, None),
    }

    @classmethod
    def prepare(cls, values: dict[str, Any], ctx: ConfigContext) -> dict[str, Any]:
        if (
            values["min"] is not None
            and values["max"] is not None
            and values["min"] > values["max"]
        ):
            raise ProbeConfigError("min", f"is above max ({values['min']} > {values['max']})")
        return values

    def secrets(self) -> list[str]:
        password = dsn_password(self.opts["dsn"])
        return [password] if password else []

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        import psycopg

        try:
            value = query_first_value(self.opts["dsn"], self.opts["query"], self.timeout)
        except psycopg.OperationalError as exc:
            return down(f"cannot connect: {describe(exc)}")
        except psycopg.Error as exc:
            return down(f"query failed: {describe(exc)}")
        low, high = self.opts["min"], self.opts["max"]
        if low is None and high is None:
            return ok(f"connected; query returned {value!r}", value=_metric(value))
        try:
            number = float(value)
        except (TypeError, ValueError):
            return degraded(
                f"query returned {value!r}, not a number to compare", value=_metric(value)
            )
        if low is not None and number < low:
            return degraded(f"query returned {value}, below min {low}", value=number)
        if high is not None and number > high:
            return degraded(f"query returned {value}, above max {high}", value=number)
        return ok(f"query returned {value} (within bounds)", value=number)


def _metric(value: Any) -> Metric:
    if isinstance(value, int | float | bool) or value is None:
        return value
    return str(value)[:200]
