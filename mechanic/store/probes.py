"""Layer 1's health record (probes/health.py): every probe result, each probe's
current health, its transitions, what was done about it, and the on_fix
actions run after a fix (probes/remediation.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from mechanic.store.connection import Part, from_row

PROBE_RESULT_DAYS = 30  # every probe result is kept this long


@dataclass
class ProbeState:
    """The health model's view of one probe (see probes/health.py)."""

    name: str
    type: str
    status: str = "unknown"  # unknown | ok | degraded | down | error
    since: float = 0.0
    raw_status: str | None = None  # the last result's status, before fail_cycles
    raw_streak: int = 0  # cycles in a row with raw_status
    runs: int = 0  # cycles this probe has been judged in
    last_message: str = ""
    last_latency_ms: float | None = None
    last_at: float | None = None
    last_alert_run: int = 0
    given_up: bool = False
    window_start: int = 0  # actions before this run no longer count (after a reset)
    healthy_streak: int = 0


@dataclass(frozen=True)
class ProbeEvent:
    """A probe's transition (kind "transition": from_status to to_status) or note."""

    id: int
    name: str
    at: float
    kind: str
    from_status: str | None
    to_status: str | None
    message: str


@dataclass(frozen=True)
class ProbeAction:
    """What Layer 1 did about a probe in one run (its on_failure action)."""

    id: int
    name: str
    run: int
    at: float
    action: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class FixActionRecord:
    """An on_fix action run after a fix (probes/remediation.py), as recorded."""

    id: int
    cycle_id: int | None
    at: float
    root: str
    action: str
    ok: bool
    detail: str
    files: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Probes(Part):
    """The probe_results, probe_state, probe_events, probe_actions and
    fix_actions tables."""

    def record_probe_results(self, cycle_id: int | None, results: Iterable[Any]) -> None:
        """Store results; those older than PROBE_RESULT_DAYS go (health lives in probe_state)."""
        now = time.time()
        rows = [
            (
                cycle_id,
                now,
                r.name,
                r.type,
                r.status,
                r.message,
                r.latency_ms,
                json.dumps(r.metrics, default=str),
            )
            for r in results
        ]
        with self._db.tx() as db:
            db.executemany(
                "INSERT INTO probe_results (cycle_id, at, name, type, status, message,"
                " latency_ms, metrics) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.execute("DELETE FROM probe_results WHERE at < ?", (now - PROBE_RESULT_DAYS * 86400,))

    def last_probe_metrics(self) -> dict[str, dict[str, Any]]:
        """Each probe's metrics from its last cycle (not from `mechanic probe` runs)."""
        rows = self._db.execute(
            "SELECT name, metrics FROM probe_results WHERE id IN"
            " (SELECT MAX(id) FROM probe_results WHERE cycle_id IS NOT NULL GROUP BY name)"
        )
        return {row[0]: json.loads(row[1] or "{}") for row in rows}

    def probe_states(self) -> dict[str, ProbeState]:
        rows = self._db.execute("SELECT * FROM probe_state ORDER BY name")
        return {
            row["name"]: ProbeState(**{**dict(row), "given_up": bool(row["given_up"])})
            for row in rows
        }

    def save_probe_state(self, state: ProbeState) -> None:
        values = asdict(state)
        values["given_up"] = int(state.given_up)
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        updates = ", ".join(f"{name} = excluded.{name}" for name in values if name != "name")
        with self._db.tx() as db:
            db.execute(
                f"INSERT INTO probe_state ({names}) VALUES ({marks})"
                f" ON CONFLICT(name) DO UPDATE SET {updates}",
                tuple(values.values()),
            )

    def add_probe_event(self, name: str, kind: str, before: str, after: str, message: str) -> None:
        with self._db.tx() as db:
            db.execute(
                "INSERT INTO probe_events (name, at, kind, from_status, to_status, message)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, time.time(), kind, before, after, message),
            )

    def probe_events(self, name: str | None = None, limit: int = 50) -> list[ProbeEvent]:
        where, args = ("WHERE name = ?", (name,)) if name else ("", ())
        rows = self._db.execute(
            f"SELECT * FROM probe_events {where} ORDER BY id DESC LIMIT ?", (*args, limit)
        )
        return [from_row(ProbeEvent, row) for row in rows][::-1]

    def record_probe_action(self, name: str, run: int, action: str, ok: bool, detail: str) -> None:
        with self._db.tx() as db:
            db.execute(
                "INSERT INTO probe_actions (name, run, at, action, ok, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (name, run, time.time(), action, int(ok), detail),
            )

    def count_probe_actions(self, name: str, after_run: int) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM probe_actions WHERE name = ? AND run > ?", (name, after_run)
        ).fetchone()
        return int(row[0])

    def probe_actions(self, name: str) -> list[ProbeAction]:
        rows = self._db.execute("SELECT * FROM probe_actions WHERE name = ? ORDER BY id", (name,))
        return [from_row(ProbeAction, row, ok=bool(row["ok"])) for row in rows]

    def record_fix_action(self, cycle_id: int | None, action: Any) -> int:
        with self._db.tx() as db:
            return db.insert(
                "INSERT INTO fix_actions (cycle_id, at, root, action, ok, detail, files)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    cycle_id,
                    time.time(),
                    action.root,
                    action.action,
                    int(action.ok),
                    action.detail,
                    json.dumps(action.files),
                ),
            )

    def fix_actions(self, limit: int = 10) -> list[FixActionRecord]:
        """The latest on_fix actions, newest first."""
        rows = self._db.execute("SELECT * FROM fix_actions ORDER BY id DESC LIMIT ?", (limit,))
        return [
            from_row(FixActionRecord, row, ok=bool(row["ok"]), files=json.loads(row["files"]))
            for row in rows
        ]
