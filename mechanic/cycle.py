"""One cycle of Layer 2: findings → repair candidates → the transaction → the record."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from mechanic.alerts import Alert, Alerter
from mechanic.config.settings import Config
from mechanic.detect import errorlog
from mechanic.detect.checkers import CheckerSet
from mechanic.detect.checkers.base import Finding
from mechanic.detect.discovery import Finder, WatchedFile
from mechanic.detect.scan import ScanResult, scan
from mechanic.errors import BackendError, MechanicError, StoreError
from mechanic.files.hashing import sha256, sha256_file
from mechanic.files.locks import cycle_lock
from mechanic.files.userfile import read_regular
from mechanic.repair.backends import Backend, create_backend
from mechanic.repair.baseline import Baseline, baseline, needs_a_person
from mechanic.repair.ladder import Ladder, record_revert, signature
from mechanic.repair.prompt import error_text
from mechanic.repair.record import attempt_from, new_attempt, record_attempt
from mechanic.repair.rungs.deterministic import rung
from mechanic.repair.runtests import validator_for
from mechanic.repair.validate import ChosenFile
from mechanic.store import AttemptRecord, Cooldown, NeedsPerson, Patch, RuntimeErrorRecord, Store
from mechanic.write.gate import WriteGate
from mechanic.write.recovery import Recovered
from mechanic.write.textfile import NotText, decode
from mechanic.write.writer import Writer
from probes.health import ProbeOutcome, remediate, run_cycle_probes
from probes.remediation import FixAction, run_on_fix

log = structlog.get_logger("mechanic.cycle")

# Zero-token searches in one cycle stop after this long, so a tree full of files no
# small edit can fix does not stall every cycle; the rest wait for the next one.
DETERMINISTIC_CYCLE_SECONDS = 20.0
# The error on a cycle row whose process stopped mid-cycle (closed by the next cycle).
ABANDONED = "abandoned: mechanic stopped during this cycle"


@dataclass
class CycleReport:
    cycle_id: int
    dry_run: bool
    scan: ScanResult
    attempts: list[AttemptRecord] = field(default_factory=list)
    held: dict[Path, str] = field(default_factory=dict)  # broken, not attempted, and why
    backend_error: str | None = None
    runtime: list[RuntimeErrorRecord] = field(default_factory=list)  # active, from logs
    recovered: list[Recovered] = field(default_factory=list)  # writes a killed run left
    # Broken files mechanic will not patch (truncated, merge conflict, three strikes).
    needs_person: dict[Path, tuple[str, str]] = field(default_factory=dict)  # kind, reason
    probes: list[ProbeOutcome] = field(default_factory=list)  # Layer 1, full cycles only
    probes_error: str | None = None
    fix_actions: list[FixAction] = field(default_factory=list)  # on_fix, after fixes

    @property
    def remaining(self) -> list[Finding]:
        fixed = {Path(a.path) for a in self.attempts if a.outcome == "applied"}
        return [f for path, f in sorted(self.scan.findings.items()) if path not in fixed]


def check(config: Config, store: Store) -> ScanResult:
    """What `mechanic check` reports: a cycle's scan and runtime-error step, under
    the cycle lock, repairing nothing. Its findings hold every broken file."""
    with cycle_lock(config.mechanic.state_dir), CheckerSet(node=config.mechanic.node) as checkers:
        finder = Finder(config)
        result = scan(finder, checkers, store, max_file_bytes=config.mechanic.max_file_kb * 1024)
        errorlog.join_findings(config, store, finder, result)
    return result


def run_cycle(
    config: Config,
    store: Store,
    *,
    dry_run: bool = False,
    only: Iterable[Path] | None = None,
    quiet_seconds: float = 0.0,
    gate: WriteGate | None = None,
) -> CycleReport:
    """Check every watched file and repair what the limits allow.

    `only` (paths) makes it a targeted check: just those files are looked at.
    `quiet_seconds` holds back the repair of a file modified more recently than
    that: someone may be typing in it (the daemon passes [mechanic] quiet_seconds).
    `gate` carries the daemon's stop request and veto to every write.
    """
    with cycle_lock(config.mechanic.state_dir):
        # With the lock held no cycle is under way, so an unfinished row is one
        # whose process stopped mid-cycle (the daemon abandons a stuck one at stop).
        for cycle_id in store.finish_unfinished_cycles(ABANDONED):
            log.warning("cycle.abandoned", cycle=cycle_id, error=ABANDONED)
        targets = None if only is None else {Path(p) for p in only}
        cycle = _Cycle(config, store, dry_run, targets, quiet_seconds, gate)
        try:
            return cycle.run()
        except Exception as exc:
            cycle.record_failure(exc)  # a cycle that failed is not an abandoned one
            raise


class _Cycle:
    def __init__(
        self,
        config: Config,
        store: Store,
        dry_run: bool,
        only: set[Path] | None = None,
        quiet_seconds: float = 0.0,
        gate: WriteGate | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.dry_run = dry_run
        self.finder = Finder(config)
        # Every write of this cycle, by every rung, goes through this one writer.
        self.writer = Writer.for_config(config, guard=self.finder.guard, gate=gate)
        self.only = only
        self.quiet_seconds = quiet_seconds
        self.deterministic_left = DETERMINISTIC_CYCLE_SECONDS
        self._baselines: dict[Path, Baseline | None] = {}
        # Files newly left to a person, alerted once per mark, together at the end.
        self.alerts: list[Alert] = []
        self.cycle_id: int | None = None

    def run(self) -> CycleReport:
        try:
            return self._run()
        finally:
            # Even when the cycle broke off: a file marked is never alerted again.
            if self.alerts:
                Alerter(self.config.alerts).send_all(self.alerts)

    def _run(self) -> CycleReport:
        started = time.monotonic()
        cycle_id = self.cycle_id = self.store.start_cycle(dry_run=self.dry_run)
        log.info(
            "cycle.start",
            cycle=cycle_id,
            dry_run=self.dry_run,
            roots=len(self.config.watches),
            **({} if self.only is None else {"only": sorted(str(p) for p in self.only)}),
        )
        with CheckerSet(node=self.config.mechanic.node) as checkers:
            # Under the cycle lock, before anything is read: finish what a killed run
            # began, and put on the record every fix it wrote but did not record.
            recovered = self.writer.recover(
                checkers.get,
                lambda item: record_recovered(self.config, self.store, item, cycle_id, self.writer),
            )
            for item in recovered:
                log.warning(
                    "recovery", file=str(item.target), action=item.action, reason=item.reason
                )
            # Layer 1 looks next, as seed 003 did, on full cycles only (not targeted
            # checks); whatever it finds, Layer 2 runs after it. Its actions wait
            # for Layer 2's repairs: restarting a service into a file that is still
            # broken would only crash it again.
            outcomes, probes_error = self._probes(cycle_id) if self.only is None else ([], None)
            report: CycleReport | None = None
            try:
                result = scan(
                    self.finder,
                    checkers,
                    self.store,
                    max_file_bytes=self.config.mechanic.max_file_kb * 1024,
                    only=self.only,
                )
                report = CycleReport(cycle_id, self.dry_run, result, recovered=recovered)
                self._runtime(report)
                report.probes, report.probes_error = outcomes, probes_error
                self._log_scan(result)
                self.store.add_findings(cycle_id, result.findings.values())
                chosen = self._choose(report, checkers)
                if chosen:
                    self._repair(report, chosen, checkers)
            finally:
                # Even when Layer 2 broke off: on_fix for what it fixed, then on_down.
                self._act(cycle_id, report, outcomes)
        assert report is not None  # only an exception leaves it unset
        remaining = report.remaining
        self.store.finish_cycle(
            cycle_id,
            files_seen=len(result.files),
            files_checked=result.checked,
            findings=len(result.findings),
            attempts=len(report.attempts),
            applied=sum(a.outcome == "applied" for a in report.attempts),
            remaining=len(remaining),
            error=report.backend_error,
        )
        log.info(
            "cycle.done",
            cycle=cycle_id,
            files=len(result.files),
            checked=result.checked,
            broken=len(result.findings),
            applied=sum(a.outcome == "applied" for a in report.attempts),
            remaining=len(remaining),
            seconds=round(time.monotonic() - started, 3),
        )
        return report

    def record_failure(self, exc: Exception) -> None:
        """Close this cycle's row with the error that ended it, if it got one."""
        if self.cycle_id is None:
            return
        with contextlib.suppress(MechanicError):  # the store itself may be what failed
            self.store.finish_cycle(self.cycle_id, error=f"failed: {exc}"[:500])

    def _runtime(self, report: CycleReport) -> None:
        """Runtime errors from [[errorlog]] files join the findings, so a file that
        parses but crashed is a repair candidate too (a parse error comes first)."""
        try:
            step = errorlog.join_findings(self.config, self.store, self.finder, report.scan)
        except Exception:  # a bad log must never end the cycle
            log.exception("errorlog.crashed")
            return
        report.runtime = step.errors

    def _act(self, cycle_id: int, report: CycleReport | None, outcomes: list[ProbeOutcome]) -> None:
        """After Layer 2: each watch root's on_fix where a fix was applied, then
        Layer 1's on_down for probes still down (probed again first if anything
        was fixed). A failure here is logged; it never hides the cycle's report."""
        applied = [] if report is None else [a for a in report.attempts if a.outcome == "applied"]
        if applied and not self.dry_run:
            try:
                for action in run_on_fix(self.config, [a.path for a in applied]):
                    action.id = self.store.record_fix_action(cycle_id, action)
                    if report is not None:
                        report.fix_actions.append(action)
            except Exception:
                log.exception("fix.action_crashed")
        if not outcomes:
            return
        try:
            remediate(self.config, self.store, cycle_id, outcomes, repaired=bool(applied))
        except Exception as exc:
            log.exception("probes.crashed")
            if report is not None:
                report.probes_error = f"{type(exc).__name__}: {exc}"

    def _probes(self, cycle_id: int) -> tuple[list[ProbeOutcome], str | None]:
        """Run, judge and act on every probe; a failure here never stops Layer 2."""
        try:
            return run_cycle_probes(self.config, self.store, cycle_id, dry_run=self.dry_run), None
        except Exception as exc:
            log.exception("probes.crashed")
            return [], f"{type(exc).__name__}: {exc}"

    def _log_scan(self, result: ScanResult) -> None:
        for language, reason in result.unavailable.items():
            log.warning("check.unavailable", language=language, reason=reason)
        for path, reason in result.skipped.items():
            log.info("check.skipped", file=str(path), reason=reason)
        for finding in result.findings.values():
            log.info(
                "finding",
                file=str(finding.path),
                language=finding.language,
                line=finding.line,
                column=finding.column,
                error=finding.message,
                kind=finding.kind,
            )

    @staticmethod
    def _foreign_dialect(watched: WatchedFile, checkers: CheckerSet) -> str | None:
        try:
            text = read_regular(watched.real).decode("utf-8", "replace")
        except OSError:
            return None  # the repair step reports unreadable files itself
        return checkers.get(watched.language).foreign_dialect(text)

    def _recently_changed(self, watched: WatchedFile) -> str | None:
        if self.quiet_seconds <= 0:
            return None
        age = time.time() - watched.mtime_ns / 1e9
        if age >= self.quiet_seconds:
            return None
        return (
            f"changed {max(age, 0):.0f} s ago: someone may be editing it; repaired once"
            f" untouched for {self.quiet_seconds:g} s (quiet_seconds)"
        )

    @staticmethod
    def _awaiting_review(waiting: dict[str, Patch], path: Path) -> int | None:
        """The pending patch made from the file as it is now, if any; a file
        changed since its patch is broken anew and is attempted again."""
        patch = waiting.get(str(path))
        if patch is None:
            return None
        try:
            current = sha256_file(path)
        except OSError:
            return None
        return patch.id if current == patch.old_sha else None

    def _choose(self, report: CycleReport, checkers: CheckerSet) -> list[ChosenFile]:
        """Broken files to attempt now: not protected, not cooling down, within the cap."""
        settings = self.config.mechanic
        cooling = self.store.cooldown_rows() if settings.file_cooldown_hours > 0 else {}
        waiting = {p.path: p for p in self.store.pending()}  # review mode
        given_up = self.store.needs_person()
        broken = {str(path) for path in report.scan.findings}
        for passing in {str(f.real) for f in report.scan.files} & set(given_up) - broken:
            self.store.clear_needs_person(passing)  # it passes again: a person fixed it
            log.info("needs_person.cleared", file=passing, reason="the file passes its check")
        chosen: list[ChosenFile] = []
        for path, finding in sorted(report.scan.findings.items()):
            watched = report.scan.file(path)
            if watched is None:
                continue
            base = None
            if refusal := self.finder.guard.refusal(watched.path):
                reason = f"{refusal}: never sent to a model, never written"
            elif finding.kind == "dialect":  # written in Python 2 (see scan._python2)
                reason = finding.message
            elif dialect := self._foreign_dialect(watched, checkers):
                reason = dialect
            elif recent := self._recently_changed(watched):
                reason = recent
            elif patch := self._awaiting_review(waiting, path):
                reason = f"a validated fix awaits review: mechanic accept {patch}"
            elif person := self._needs_person(watched, finding, given_up):
                report.needs_person[path] = person
                reason = f"needs a person: {person[1]}"
            elif refused := self._refused(watched):
                reason = refused
            elif self._cooling(watched, finding, cooling.get(str(path))):
                until = time.localtime(cooling[str(path)].until)
                reason = f"in cooldown until {time.strftime('%Y-%m-%d %H:%M', until)}"
                reason += " (file_cooldown_hours; this content and error were tried)"
            elif self._deterministic(report, watched, finding, checkers):
                continue  # fixed without a model, or (dry run) reported as fixable
            elif self.dry_run:
                reason = "dry run: nothing is sent or written"
            elif len(chosen) >= settings.max_fixes_per_run:
                reason = f"max_fixes_per_run ({settings.max_fixes_per_run}) reached this cycle"
            else:
                base = self._baseline(watched)
                chosen.append(ChosenFile(watched, finding, base))
                continue
            report.held[path] = reason
            log.info("repair.held", file=str(path), reason=reason)
        return chosen

    @staticmethod
    def _content_sha(watched: WatchedFile) -> str | None:
        try:
            return sha256(watched.real.read_bytes())
        except OSError:
            return None  # the repair step reports unreadable files itself

    def _refused(self, watched: WatchedFile) -> str | None:
        """Why this content waits: a person reverted or rejected a fix made from it.
        It is attempted again once the file changes, or after `mechanic retry FILE`."""
        digest = self._content_sha(watched)
        if digest is None:
            return None
        waiting = [r for r in self.store.refusals(str(watched.real), digest) if not r.retried_at]
        if not waiting:
            return None
        last = waiting[0]
        by = f"attempt #{last.attempt_id}" if last.attempt_id else "a fix"
        return (
            f"{by} on this content was {last.how} by a person: not attempted again"
            f" until the file changes, or `mechanic retry {watched.real}`"
        )

    def _cooling(self, watched: WatchedFile, finding: Finding, row: Cooldown | None) -> bool:
        """A cooldown holds the content and the error it was set on (a row from a
        store before those were kept holds the file, as it always did)."""
        if row is None:
            return False
        if row.signature and row.signature != signature(finding.message, finding.language):
            return False
        return not row.sha256 or row.sha256 == self._content_sha(watched)

    def _deterministic(
        self, report: CycleReport, watched: WatchedFile, finding: Finding, checkers: CheckerSet
    ) -> bool:
        """The first rung: small token edits, no model. True when it settled the file
        (applied, or found in a dry run); otherwise the file goes on to the model."""
        if not self.config.repair.deterministic or not rung.applies_to(finding):
            return False
        digest = self._content_sha(watched)
        if digest and self.store.refusals(str(watched.real), digest):
            # A person refused a fix of this very content (retried since, or it would
            # be held): the zero-token search is deterministic and would find the same
            # edits again, so it is not run on this content; the model rungs are.
            return False
        if self.deterministic_left <= 0 or self.writer.stopping():
            return False
        started = time.monotonic()
        settings = self.config.mechanic
        validate = validator_for(
            self.config.watches,
            watched.root,
            watched.real,
            skip=(settings.state_dir, settings.backup_dir),
            stop=self.writer.gate.stop,
        )
        try:
            outcome = rung.try_deterministic(
                watched.real,
                finding,
                checkers,
                writer=self.writer,
                dry_run=self.dry_run,
                budget_seconds=min(rung.BUDGET_SECONDS, self.deterministic_left),
                validate=validate,
                baseline=self._baseline(watched),
                max_file_kb=settings.max_file_kb,
            )
        except Exception:  # one file's bug must not end the cycle
            log.exception("zero_token.crashed", file=str(watched.real))
            return False
        finally:
            self.deterministic_left -= time.monotonic() - started
        if outcome is None:
            return False
        if isinstance(outcome, rung.Found):
            report.held[watched.real] = (
                "dry run: a zero-token fix was found (nothing written):\n" + outcome.diff.rstrip()
            )
            log.info("repair.held", file=str(watched.real), reason="dry run: zero-token fix found")
            return True
        outcome.rung = "deterministic"  # the ladder's first rung, run here for dry runs too
        outcome.signature = signature(finding.message, finding.language)
        self._record(report, outcome)
        return outcome.outcome in ("applied", "pending")

    def _decode(self, language: str) -> Callable[[bytes], str | None]:
        def decode_text(data: bytes) -> str | None:
            try:
                return decode(data, language)[0]
            except NotText:
                return None

        return decode_text

    def _baseline(self, watched: WatchedFile) -> Baseline | None:
        if watched.real not in self._baselines:  # git is asked once per file and cycle
            self._baselines[watched.real] = baseline(
                self.store, watched.real, self._decode(watched.language)
            )
        return self._baselines[watched.real]

    def _needs_person(
        self, watched: WatchedFile, finding: Finding, given_up: dict[str, NeedsPerson]
    ) -> tuple[str, str] | None:
        """(kind, reason) when this broken file is left to a person: marked so
        before and unchanged since, or truncated, or in a merge conflict."""
        try:
            data = read_regular(watched.real)
        except OSError:
            return None  # the repair step reports unreadable files itself
        digest = sha256(data)
        marked = given_up.get(str(watched.real))
        if marked is not None:
            if marked.sha256 == digest:
                return marked.kind, marked.reason
            self.store.clear_needs_person(str(watched.real))  # it changed: try again
            log.info("needs_person.cleared", file=str(watched.real), reason="the file changed")
        text = self._decode(watched.language)(data)
        if text is None:
            return None
        found = needs_a_person(text, finding, self._baseline(watched))
        if found is not None:
            kind, reason = found
            self.store.mark_needs_person(str(watched.real), digest, kind, reason)
            self.alerts.append(Alert.needs_person(watched.real, kind, reason))
        return found

    def _repair(self, report: CycleReport, chosen: list[ChosenFile], checkers: CheckerSet) -> None:
        backend = create_backend(self.config.llm)
        try:
            if backend is not None:
                try:
                    backend.prepare()
                except BackendError as exc:
                    self._backend_down(report, chosen, backend, exc)
                    return
            ladder = Ladder(
                self.config, self.store, backend, checkers, self.writer, self.alerts.append
            )
            for index, chosen_file in enumerate(chosen):
                if self.writer.stopping():
                    for unasked in chosen[index:]:
                        reason = "mechanic is stopping: the model was not asked"
                        self._record(report, _not_attempted(unasked, backend, reason))
                    return
                try:
                    held = ladder.run(chosen_file, lambda record: self._record(report, record))
                except BackendError as exc:
                    assert backend is not None
                    # After a sent prompt failed, the ladder recorded this file's attempt.
                    rest = chosen[index + 1 :] if exc.prompt_sent else chosen[index:]
                    self._backend_down(report, rest, backend, exc)
                    return
                except StoreError:
                    raise  # the record failed (a fix it wrote was taken back): end the cycle
                except Exception as exc:  # one file's bug must not end the cycle
                    log.exception("repair.crashed", file=str(chosen_file.file.real))
                    reason = f"internal error: {type(exc).__name__}: {exc}"
                    self._record(report, _not_attempted(chosen_file, backend, reason))
                    continue
                if held is not None:
                    report.held[chosen_file.file.real] = held
                    log.info("repair.held", file=str(chosen_file.file.real), reason=held)
        finally:
            if backend is not None:
                backend.close()

    def _backend_down(
        self,
        report: CycleReport,
        chosen: list[ChosenFile],
        backend: Backend,
        exc: BackendError,
    ) -> None:
        report.backend_error = str(exc)
        log.error("backend.unusable", backend=backend.name, model=backend.model, error=str(exc))
        why = "model not asked" + (" after a failed request" if exc.prompt_sent else "")
        for chosen_file in chosen:
            self._record(report, _not_attempted(chosen_file, backend, f"{why}: {exc}"))

    def _record(self, report: CycleReport, record: AttemptRecord) -> None:
        record.cycle_id = report.cycle_id
        record_attempt(self.config, self.store, record, writer=self.writer)
        report.attempts.append(record)
        event = f"repair.{record.outcome}"
        fields = {"file": record.path, "reason": record.reason, "attempt": record.id}
        if record.outcome == "applied":
            fields["backup"] = record.backup_path
        if record.prompt_tokens is not None:
            fields["tokens"] = f"{record.prompt_tokens}+{record.answer_tokens or 0}"
        level = "warning" if record.outcome in ("reverted", "rejected") else "info"
        getattr(log, level)(event, **fields)


def record_recovered(
    config: Config,
    store: Store,
    item: Recovered,
    cycle_id: int | None,
    writer: Writer | None = None,
) -> None:
    """Put on the record what recovery found done: a fix a killed run wrote but
    had not recorded (once: a row already committed for its intent is kept), and
    a revert it finished but had not marked (and its content is held back, as
    `mechanic revert` holds it). The fix is recorded as the killed
    run would have: its git commit and its cooldown follow (repair.record)."""
    if item.attempt is not None and store.attempt_for_intent(item.attempt["intent"]) is None:
        record = attempt_from(item.attempt)
        record.cycle_id = record.cycle_id or cycle_id
        record_attempt(config, store, record, writer=writer or Writer.for_config(config))
        log.warning("repair.recorded_on_recovery", file=record.path, attempt=record.id)
    if item.undoes is not None and (undone := store.attempt(item.undoes)) is not None:
        # The person's revert, finished before the kill: held back as if it had not been.
        try:
            restored = read_regular(item.target)
        except OSError:
            restored = b""
        record_revert(store, undone, restored=restored, fixed=None)


def _not_attempted(chosen_file: ChosenFile, backend: Backend | None, reason: str) -> AttemptRecord:
    return new_attempt(
        chosen_file.file.real,
        chosen_file.finding.language,
        error_text(chosen_file.finding),
        reason=reason,
        backend=backend.name if backend else None,
        model=backend.model if backend else None,
    )
