"""Records as JSON: the one set of keys every `--json` prints (docs/json.md).

`once`, `check`, `status`, `pending` and `probe` print what this module builds, so
the same attempt (or finding, runtime error, patch, probe) is the same object
whichever command shows it. It is the contract the web API and the fleet serve:
keys are named for users (`file`, `line`, `column`, `message`, `rung`, `outcome`,
`reason`, `tokens`), times are ISO 8601 with the local offset, and every record
object carries `"schema": SCHEMA`. A change that renames or drops a key bumps it.

Nothing here reads the store or the disk: callers hand over records.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mechanic.files.names import for_json

if TYPE_CHECKING:
    from mechanic.cycle import CycleReport
    from mechanic.detect.checkers.base import Finding
    from mechanic.store import AttemptRecord, ProbeState, RuntimeErrorRecord, StoreReport
    from mechanic.write.recovery import Recovered
    from probes.base import ProbeResult
    from probes.health import ProbeOutcome
    from probes.remediation import FixAction

SCHEMA = 1

Json = dict[str, Any]


def dumps(value: object) -> str:
    """The text a `--json` prints: names that are not UTF-8 escaped (`for_json`)."""
    return json.dumps(for_json(value), indent=2)


def when(timestamp: float | None) -> str | None:
    """A time as ISO 8601 with the local offset, to the second: 2026-12-02T01:23:57+01:00."""
    if timestamp is None:
        return None
    moment = datetime.datetime.fromtimestamp(timestamp).astimezone()
    return moment.isoformat(timespec="seconds")


def tokens(prompt: int | None, answer: int | None) -> Json | None:
    """What a model was sent and answered; None when no model was asked."""
    if prompt is None and answer is None:
        return None
    return {"prompt": prompt or 0, "answer": answer or 0}


def _record(**keys: Any) -> Json:
    return {"schema": SCHEMA, **keys}


# --- what is broken ----------------------------------------------------------


def finding(item: Finding) -> Json:
    """A broken file: where it breaks and why (`kind`: syntax, static or runtime)."""
    return _record(
        file=str(item.path),
        language=item.language,
        line=item.line,
        column=item.column,
        message=item.message,
        kind=item.kind,
    )


def runtime_error(item: RuntimeErrorRecord) -> Json:
    """A runtime error read from a log, active until its file changes."""
    return _record(
        file=item.path,
        language=item.language,
        line=item.line,
        column=item.col,
        message=item.message,
        kind="runtime",
        function=item.function or None,
        log=item.log_path,
        count=item.count,
        first_seen=when(item.first_seen),
        last_seen=when(item.last_seen),
        signature=item.signature,
    )


# --- what was done about it --------------------------------------------------


def attempt(item: AttemptRecord) -> Json:
    """One try at repairing one file, whatever its outcome."""
    return _record(
        id=item.id,
        cycle=item.cycle_id,
        time=when(item.started_at) if item.started_at else None,
        file=item.path,
        language=item.language,
        message=item.error,
        rung=item.rung,
        outcome=item.outcome,
        reason=item.reason,
        tokens=tokens(item.prompt_tokens, item.answer_tokens),
        seconds=round(item.duration_s, 3) if item.duration_s is not None else None,
        backend=item.backend,
        model=item.model,
        backup=item.backup_path,
        diff=item.diff,
        undone=when(item.undone_at),
        old_sha=item.old_sha,
        new_sha=item.new_sha,
    )


def patch(row: Mapping[str, Any], made_by: AttemptRecord | None) -> Json:
    """A validated fix waiting for review, with the attempt that made it."""
    return _record(
        id=row["id"],
        time=when(row["created_at"]),
        file=row["path"],
        language=row["language"],
        message=row["error"],
        status=row["status"],
        diff=row["diff"],
        decided=when(row["decided_at"]),
        fix_file=row["fix_path"],
        attempt=attempt(made_by) if made_by is not None else None,
    )


def held(path: str | Path, reason: str) -> Json:
    return _record(file=str(path), reason=reason)


def needs_person(path: str | Path, kind: str, reason: str, since: float | None) -> Json:
    """A file mechanic gave up on until it changes (`since`: None when this cycle did)."""
    return _record(file=str(path), kind=kind, reason=reason, since=when(since))


def recovered(item: Recovered) -> Json:
    return _record(file=str(item.target), action=item.action, reason=item.reason)


def fix_action(item: FixAction | Mapping[str, Any]) -> Json:
    """A watch root's on_fix, run after fixes were applied under it."""
    row = item if isinstance(item, Mapping) else vars(item)
    return _record(
        root=row["root"],
        action=row["action"],
        ok=bool(row["ok"]),
        detail=row["detail"],
        files=list(row["files"]),
        time=when(row.get("at")),
    )


# --- probes ------------------------------------------------------------------


def probe_result(item: ProbeResult) -> Json:
    """One probe's look, now (`mechanic probe`)."""
    return _record(
        name=item.name,
        type=item.type,
        status=item.status,
        message=item.message,
        latency_ms=round(item.latency_ms, 1),
        metrics=dict(item.metrics),
    )


def probe_outcome(item: ProbeOutcome) -> Json:
    """A probe as a cycle judged it: its look, its health, what followed."""
    data = probe_result(item.result)
    if item.state is not None:
        data.update(
            health=item.state.status, since=when(item.state.since), given_up=item.state.given_up
        )
    data.update(event=item.event, action=item.action)
    if item.rechecked is not None:
        data["rechecked"] = {"status": item.rechecked.status, "message": item.rechecked.message}
    return data


def probe_health(name: str, type_: str, state: ProbeState | None) -> Json:
    """A configured probe's health as the last cycle left it (`mechanic status`)."""
    return _record(
        name=name,
        type=type_,
        status=state.status if state else "unknown",
        since=when(state.since) if state else None,
        message=state.last_message if state else "no cycle has run this probe yet",
        latency_ms=state.last_latency_ms if state else None,
        given_up=bool(state and state.given_up),
        time=when(state.last_at) if state else None,
    )


# --- what the commands print -------------------------------------------------


def cycle(report: CycleReport) -> Json:
    """`mechanic once --json`."""
    scan = report.scan
    return _record(
        cycle=report.cycle_id,
        dry_run=report.dry_run,
        files=len(scan.files),
        checked=scan.checked,
        findings=[finding(f) for f in scan.findings.values()],
        attempts=[attempt(a) for a in report.attempts],
        held=[held(p, r) for p, r in report.held.items()],
        remaining=[finding(f) for f in report.remaining],
        skipped_files=[held(p, r) for p, r in scan.skipped.items()],
        unchecked_languages=dict(scan.unavailable),
        backend_error=report.backend_error,
        runtime_errors=[runtime_error(e) for e in report.runtime],
        recovered=[recovered(r) for r in report.recovered],
        needs_person=[needs_person(p, k, r, None) for p, (k, r) in report.needs_person.items()],
        probes=[probe_outcome(o) for o in report.probes],
        probes_error=report.probes_error,
        on_fix=[fix_action(a) for a in report.fix_actions],
    )


def findings(items: Iterable[Finding]) -> list[Json]:
    """`mechanic check --json`: a list of findings."""
    return [finding(f) for f in items]


def last_cycle(row: Mapping[str, Any] | None) -> Json | None:
    if row is None:
        return None
    return _record(
        id=row["id"],
        time=when(row["started_at"]),
        finished=when(row["finished_at"]),
        seconds=(round(row["finished_at"] - row["started_at"], 3) if row["finished_at"] else None),
        dry_run=bool(row["dry_run"]),
        files=row["files_seen"],
        checked=row["files_checked"],
        findings=row["findings"],
        attempts=row["attempts"],
        applied=row["applied"],
        remaining=row["remaining"],
        error=row["error"],
    )


def totals(row: Mapping[str, Any]) -> Json:
    """Attempts by outcome, cycles, and tokens, over the store's life."""
    counts = {k: v for k, v in row.items() if k not in ("prompt_tokens", "answer_tokens")}
    return _record(**counts, tokens=tokens(row["prompt_tokens"], row["answer_tokens"]))


def rung(row: Mapping[str, Any]) -> Json:
    """One rung of the ladder: attempts, fixes, fix rate, tokens, seconds."""
    return _record(
        rung=row["rung"],
        attempts=row["attempts"],
        applied=row["applied"],
        fix_rate=row["fix_rate"],
        tokens=tokens(row["prompt_tokens"], row["answer_tokens"]),
        seconds=row["seconds"],
    )


def daemon_state(state: Mapping[str, Any]) -> Json:
    """The daemon running on the state folder, as it described itself."""
    return _record(
        pid=state.get("pid"),
        since=when(state.get("started_at")),
        config=state.get("config"),
        watcher=state.get("watcher"),
        watcher_fallback=state.get("watcher_fallback"),
    )


def status(
    *,
    totals_row: Mapping[str, Any],
    last: Mapping[str, Any] | None,
    recent: Iterable[AttemptRecord],
    cooldowns: Mapping[str, float],
    daemon: Mapping[str, Any] | None,
    pending: int,
    runtime: Iterable[RuntimeErrorRecord],
    rungs: Iterable[Mapping[str, Any]],
    given_up: Mapping[str, Mapping[str, Any]],
    probes: Iterable[Json],
    store_id: str,
    fix_actions: Iterable[Mapping[str, Any]],
) -> Json:
    """`mechanic status --json`."""
    return _record(
        totals=totals(totals_row),
        last_cycle=last_cycle(last),
        recent_attempts=[attempt(a) for a in recent],
        cooldowns=[_record(file=p, until=when(u)) for p, u in sorted(cooldowns.items())],
        daemon=daemon_state(daemon) if daemon else None,
        pending_patches=pending,
        runtime_errors=[runtime_error(e) for e in runtime],
        rungs=[rung(r) for r in rungs],
        needs_person=[
            needs_person(p, v["kind"], v["reason"], v["since"]) for p, v in given_up.items()
        ],
        probes=list(probes),
        store_id=store_id,
        on_fix=[fix_action(a) for a in fix_actions],
    )


def store_check(report: StoreReport) -> Json:
    """`mechanic store check --json`."""
    return _record(
        path=str(report.path),
        exists=report.exists,
        usable=report.problem is None,
        problem=report.problem,
        repair=report.repair,
        size=report.size,
        integrity=report.integrity,
        store_schema=report.schema,
        store_id=report.store_id,
        created=when(report.created_at),
        id_floor=report.id_floor,
        attempts=report.attempts,
        highest_attempt=report.highest_attempt,
    )
