"""Layer 1's health model: probe results → health, events, alerts and remediation.

Each cycle every probe result is stored, then judged against the probe's state:
- a probe goes from ok to failing only after `fail_cycles` failing cycles in a row
  (shorter flaps are ignored), and back to ok at the first ok result;
- every change of health is an event: logged, stored and alerted once; while a
  probe stays unhealthy, `remind_every_cycles` re-alerts it;
- while a probe is down its `on_down` action runs once a cycle, after Layer 2's
  repairs (a restart into a file that is still broken helps nobody), and a probe
  that was not ok is probed again first when a repair was applied: what the fix
  (or its `on_fix` restart) brought back is not restarted. At most
  `max_actions` times within `within_cycles` cycles; past that the probe is
  *given up*: no more actions, an alert, then a "still given up" alert every
  cycle (every `remind_every_cycles` when set) while it stays down, until a
  person runs `mechanic probe --reset NAME` or it has been ok for
  `reset_after_cycles` cycles in a row (unlike Monit, recovery does re-arm it).
  A given-up probe that is ok again sends its recovery and nothing more: a
  reminder about a healthy app is noise (issue 13: 7 of 23 alerts were that).

`mechanic probe` only looks: its results are stored (with no cycle) but they move
no state, send no alert and restart nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from mechanic.alerts import Alert, Alerter
from mechanic.config.settings import Config, ProbeSpec
from mechanic.errors import ConfigError
from mechanic.files import locks
from mechanic.plural import plural
from mechanic.store import ProbeState, Store
from probes.base import ProbeResult
from probes.remediation import run_action
from probes.runner import run_probes

log = structlog.get_logger("mechanic.health")


@dataclass
class ProbeOutcome:
    """One probe in one cycle: what it saw and what the health model made of it."""

    result: ProbeResult
    state: ProbeState | None = None  # None on a dry run: nothing is judged
    event: str | None = None  # the transition this cycle, if any
    action: str | None = None  # what on_down did this cycle, if anything
    # The probe run again after a repair, before deciding on on_down.
    rechecked: ProbeResult | None = None
    before: str | None = None  # its health before this cycle's result


@contextlib.contextmanager
def probes_lock(state_dir: Path) -> Iterator[None]:
    """One judge at a time: a cycle and a `mechanic probe --reset` never interleave."""
    with locks.waiting_lock(state_dir / "probes.lock"):
        yield


def select(config: Config, names: Sequence[str] = ()) -> list[ProbeSpec]:
    """The probes named (all when none), refusing a name the config lacks."""
    if not names:
        return list(config.probes)
    by_name = {spec.name: spec for spec in config.probes}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        known = ", ".join(by_name) or "none configured"
        raise ConfigError(
            f"no probe named {', '.join(unknown)} (known: {known})", file=config.source
        )
    return [by_name[name] for name in names]


def look(config: Config, store: Store, names: Sequence[str] = ()) -> list[ProbeResult]:
    """`mechanic probe`: run probes now and store what they saw; judge nothing."""
    specs = select(config, names)
    results = run_probes(specs, store.last_probe_metrics())
    store.record_probe_results(None, results)
    for result in results:
        _log_result(result)
    return results


def run_cycle_probes(
    config: Config, store: Store, cycle_id: int, *, dry_run: bool = False
) -> list[ProbeOutcome]:
    """Every probe, concurrently; then judge and alert (not on a dry run). What to
    do about a probe that is down waits for `remediate`, after Layer 2's repairs."""
    if not config.probes:
        return []
    with probes_lock(config.mechanic.state_dir):
        results = run_probes(config.probes, store.last_probe_metrics())
        for result in results:
            _log_result(result)
        if dry_run:
            return [ProbeOutcome(result) for result in results]
        store.record_probe_results(cycle_id, results)
        states = store.probe_states()
        judge = _Judge(store)
        outcomes = [
            judge.judge(spec, result, states.get(spec.name))
            for spec, result in zip(config.probes, results, strict=True)
        ]
    Alerter(config.alerts).send_all(judge.alerts)
    return outcomes


def remediate(
    config: Config,
    store: Store,
    cycle_id: int,
    outcomes: Sequence[ProbeOutcome],
    *,
    repaired: bool,
) -> None:
    """Layer 1's actions, once Layer 2 is done: `on_down` for each probe still down,
    the given-up bookkeeping, and reminders. With `repaired` (a fix was applied
    this cycle), a probe that was not ok is probed again first, and one that is no
    longer down is not restarted."""
    judged = [o for o in outcomes if o.state is not None]  # none on a dry run
    if not judged:
        return
    specs = {spec.name: spec for spec in config.probes}
    with probes_lock(config.mechanic.state_dir):
        if repaired:
            _recheck(store, cycle_id, [o for o in judged if o.result.status != "ok"], specs)
        states = store.probe_states()
        judge = _Judge(store)
        for outcome in judged:
            spec = specs.get(outcome.result.name)
            state = states.get(outcome.result.name)
            if spec is None or state is None:
                continue
            outcome.state = state
            judge.act(spec, state, outcome)
    Alerter(config.alerts).send_all(judge.alerts)


def _recheck(
    store: Store, cycle_id: int, outcomes: list[ProbeOutcome], specs: dict[str, ProbeSpec]
) -> None:
    """Probe again what a repair may have brought back. The results are stored with
    the cycle, so the next cycle compares with them (a pm2 restart made by on_fix
    is not taken for a crash)."""
    wanted = [specs[o.result.name] for o in outcomes if o.result.name in specs]
    if not wanted:
        return
    results = run_probes(wanted, store.last_probe_metrics())
    store.record_probe_results(cycle_id, results)
    by_name = {result.name: result for result in results}
    for outcome in outcomes:
        result = by_name.get(outcome.result.name)
        if result is None:
            continue
        outcome.rechecked = result
        log.info(
            "probe.rechecked",
            probe=result.name,
            status=result.status,
            was=outcome.result.status,
            message=result.message,
        )


def reset(config: Config, store: Store, name: str) -> ProbeState | None:
    """`mechanic probe --reset NAME`: re-arm a given-up probe's remediation."""
    select(config, [name])
    with probes_lock(config.mechanic.state_dir):
        state = store.probe_states().get(name)
        if state is None:
            return None
        was = state.given_up
        state.given_up, state.window_start, state.healthy_streak = False, state.runs, 0
        store.save_probe_state(state)
        message = "reset by a person" + ("" if was else " (it was not given up)")
        store.add_probe_event(name, "reset", state.status, state.status, message)
    log.info("probe.reset", probe=name, was_given_up=was)
    return state


def _log_result(result: ProbeResult) -> None:
    level = "info" if result.status == "ok" else "warning"
    getattr(log, level)(
        "probe",
        probe=result.name,
        status=result.status,
        message=result.message,
        ms=round(result.latency_ms),
    )


class _Judge:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.alerts: list[Alert] = []

    def judge(self, spec: ProbeSpec, result: ProbeResult, state: ProbeState | None) -> ProbeOutcome:
        now = time.time()
        state = state or ProbeState(name=spec.name, type=spec.type, since=now)
        state.type = spec.type
        state.runs += 1
        state.raw_status = result.status
        state.last_message, state.last_latency_ms, state.last_at = (
            result.message,
            result.latency_ms,
            now,
        )
        before = state.status
        state.raw_streak = 0 if result.status == "ok" else state.raw_streak + 1
        failing_long_enough = state.raw_streak >= spec.fail_cycles
        if result.status == "ok" or before not in ("ok", "unknown") or failing_long_enough:
            health = result.status
        else:
            health = before  # a flap shorter than fail_cycles is not news yet
        outcome = ProbeOutcome(result, state)
        if health != before:
            state.status, state.since = health, now
            recovered = health == "ok" and before != "unknown"
            outcome.event = "recovered" if recovered else health
            self._event(
                spec, state, outcome.event, before, alert=before != "unknown" or health != "ok"
            )
        outcome.before = before
        self.store.save_probe_state(state)
        return outcome

    def act(self, spec: ProbeSpec, state: ProbeState, outcome: ProbeOutcome) -> None:
        """After Layer 2: on_down, then reminders (it may have given up, alerted now,
        or re-armed, with no reminder)."""
        self._remediate(spec, state, outcome)
        if outcome.event is None and self._reminder_due(spec, state):
            given_up = state.given_up and state.status == "down"
            kind = "still given up" if given_up else f"still {state.status}"
            self._event(spec, state, kind, outcome.before or state.status, alert=True)
        self.store.save_probe_state(state)

    @staticmethod
    def _reminder_due(spec: ProbeSpec, state: ProbeState) -> bool:
        """An unhealthy probe is reminded every `remind_every_cycles` (0: never); a
        given-up one that is down, every cycle (or every remind_every_cycles): nothing
        restarts it meanwhile, so a person must know. Once it is ok again, nothing:
        its recovery was alerted, and "still given up (ok → ok)" tells no one anything."""
        if state.status in ("ok", "unknown"):
            return False
        every = spec.remind_every_cycles
        if state.given_up and state.status == "down":
            every = every or 1
        return every > 0 and state.runs - state.last_alert_run >= every

    def _event(self, spec: ProbeSpec, state: ProbeState, kind: str, before: str, *, alert: bool):
        message = state.last_message
        if state.given_up and kind != "given up":
            message += f" [given up: mechanic probe --reset {spec.name}]"
        self.store.add_probe_event(spec.name, kind, before, state.status, message)
        level = "info" if state.status == "ok" else "warning"
        getattr(log, level)(
            "probe.event",
            probe=spec.name,
            change=kind,
            before=before,
            now=state.status,
            message=message,
        )
        if alert:
            state.last_alert_run = state.runs
            self.alerts.append(Alert(spec.name, spec.type, kind, state.status, before, message))

    def _remediate(self, spec: ProbeSpec, state: ProbeState, outcome: ProbeOutcome) -> None:
        remedy = spec.on_down
        if remedy is None:
            return
        if state.given_up:
            state.healthy_streak = state.healthy_streak + 1 if state.status == "ok" else 0
            if state.healthy_streak >= remedy.reset_after_cycles:
                state.given_up, state.window_start, state.healthy_streak = False, state.runs, 0
                message = f"ok for {plural(remedy.reset_after_cycles, 'cycle')}: on_down re-armed"
                self.store.add_probe_event(spec.name, "reset", "ok", "ok", message)
                log.info("probe.reset", probe=spec.name, reason=message)
            return
        if state.status != "down":
            return
        if outcome.rechecked is not None and outcome.rechecked.status != "down":
            log.info(
                "probe.action_skipped",
                probe=spec.name,
                reason=f"probed again after a repair: {outcome.rechecked.status}",
            )
            return
        since = max(state.window_start, state.runs - remedy.within_cycles)
        done = self.store.count_probe_actions(spec.name, since)
        if done >= remedy.max_actions:
            state.given_up, state.healthy_streak = True, 0
            state.last_message = (
                f"{plural(done, remedy.action + ' action')} within"
                f" {plural(remedy.within_cycles, 'cycle')} did not"
                f" help; mechanic stopped acting (mechanic probe --reset {spec.name}). Last:"
                f" {outcome.result.message}"
            )
            outcome.event = "given up"
            self._event(spec, state, "given up", state.status, alert=True)
            return
        result = run_action(spec, remedy)
        self.store.record_probe_action(
            spec.name, state.runs, remedy.action, result.ok, result.detail
        )
        outcome.action = result.detail
        level = "info" if result.ok else "error"
        getattr(log, level)(
            "probe.action",
            probe=spec.name,
            action=remedy.action,
            ok=result.ok,
            detail=result.detail,
        )
