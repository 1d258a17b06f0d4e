"""The `mechanic` command: each subcommand reads as what the user wants done."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from mechanic import __version__, report
from mechanic.config.folders import check_folders
from mechanic.config.load import find_config, load_config
from mechanic.config.settings import Config
from mechanic.errors import Busy, ConfigError, MechanicError, StoreUnusable
from mechanic.files.names import readable, shown

# The exit codes README.md's command table documents; `main` maps every error to one.
EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2
EXIT_BUSY = 3  # another cycle or daemon holds the state folder: nothing was judged
EXIT_INTERRUPTED = 130  # Ctrl-C


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2, like config errors
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"mechanic: error: {message}\n")


def _config(args: argparse.Namespace) -> Config:
    config = load_config(find_config(args.config))
    check_folders(config)  # a state_dir that is a file or read-only: exit 2, not a traceback
    return config


def _setup_logging(config: Config, *, quiet: bool = False) -> None:
    from mechanic import log

    console = None if quiet else sys.stderr
    log.configure(config.mechanic.state_dir, console=console, max_mb=config.mechanic.log_max_mb)


def _rel(path: str | Path, config: Config) -> str:
    """A file's name for the console: relative to its watch root, and `shown`
    (a name that is not UTF-8, or holds a newline, is escaped)."""
    path = Path(path)
    for watch in config.watches:
        root = Path(os.path.realpath(watch.path))
        if root in path.parents:
            return shown(path.relative_to(root))
    return shown(path)


def _where(finding, config: Config) -> str:
    where = _rel(finding.path, config)
    if finding.line:
        where += f":{finding.line}" + (f":{finding.column}" if finding.column else "")
    return where


# --- once / check ---------------------------------------------------------


def cmd_once(args: argparse.Namespace) -> int:
    from mechanic.cycle import run_cycle
    from mechanic.store import Store

    config = _config(args)
    _setup_logging(config, quiet=args.quiet)
    with Store.open(config.mechanic.state_dir) as store:
        done = run_cycle(config, store, dry_run=args.dry_run)
    if args.json:
        print(report.dumps(report.cycle(done)))
    else:
        _print_cycle(done, config)
    return EXIT_BROKEN if done.remaining else EXIT_OK


def _print_cycle(done, config: Config) -> None:
    scan = done.scan
    if done.probes:
        healthy = sum(o.result.status == "ok" for o in done.probes)
        print(f"probes: {healthy}/{len(done.probes)} ok")
        for outcome in done.probes:
            result = outcome.result
            if result.status != "ok" or outcome.event or outcome.action:
                print(f"  {result.status:<9} {result.name}: {result.message}")
            if outcome.rechecked is not None:
                again = outcome.rechecked
                print(f"  {'again':<9} {result.name}: {again.status}: {again.message}")
            if outcome.action:
                print(f"  {'action':<9} {result.name}: {outcome.action}")
    if done.probes_error:
        print(f"probes failed: {done.probes_error}")
    print(
        f"mechanic: {len(scan.files)} files watched, {scan.checked} checked,"
        f" {len(scan.findings)} broken"
    )
    for error in done.runtime:
        where = _rel(error.path, config) + (f":{error.line}" if error.line else "")
        seen = f"seen {error.count}x" if error.count > 1 else "seen once"
        print(f"  {'runtime':<9} {where}: {error.message} ({seen} in {shown(error.log_path)})")
    for attempt in done.attempts:
        tokens = ""
        if attempt.prompt_tokens is not None:
            tokens = f" [{attempt.prompt_tokens}+{attempt.answer_tokens or 0} tokens]"
        rung = f" ({attempt.rung})" if attempt.rung else ""
        print(
            f"  {attempt.outcome:<9} {_rel(attempt.path, config)}{rung}: {attempt.reason}{tokens}"
        )
        if attempt.outcome == "applied" and attempt.backup_path:
            print(
                f"            backup {shown(attempt.backup_path)}"
                f" (undo: mechanic revert {attempt.id})"
            )
        elif attempt.outcome == "pending":
            print("            waiting for review: mechanic pending")
    for action in done.fix_actions:
        print(f"  {'on_fix':<9} {shown(action.root)}: {action.detail}")
    for path, reason in done.held.items():
        print(f"  {'held':<9} {_rel(path, config)}: {reason}")
    for language, reason in scan.unavailable.items():
        print(f"  unchecked {language} files: {reason}")
    for path, reason in scan.skipped.items():
        print(f"  {'skipped':<9} {_rel(path, config)}: {reason}")
    if done.backend_error:
        print(f"model backend: {done.backend_error}")
    remaining = done.remaining
    if remaining:
        print(f"still broken: {len(remaining)}")
        for finding in remaining:
            print(f"  {_where(finding, config)}: {finding.message}")
    else:
        print("nothing left broken")


def cmd_check(args: argparse.Namespace) -> int:
    from mechanic.cycle import cycle_lock
    from mechanic.detect import errorlog
    from mechanic.detect.checkers import CheckerSet
    from mechanic.detect.discovery import Finder
    from mechanic.detect.scan import scan
    from mechanic.store import Store

    config = _config(args)
    _setup_logging(config, quiet=True)
    with (
        Store.open(config.mechanic.state_dir) as store,
        cycle_lock(config.mechanic.state_dir),
        CheckerSet(node=config.mechanic.node) as checkers,
    ):
        finder = Finder(config)
        result = scan(finder, checkers, store, max_file_bytes=config.mechanic.max_file_kb * 1024)
        # Files that parse but crashed (runtime errors from [[errorlog]] files) are broken too.
        parses = errorlog.parses_per_scan(result)
        runtime = errorlog.collect(config, store, finder, parses=parses)
        for path, finding in runtime.findings.items():
            result.findings.setdefault(path, finding)
    findings = sorted(result.findings.values(), key=lambda f: str(f.path))
    if args.json:
        print(report.dumps(report.findings(findings)))
    else:
        for finding in findings:
            print(f"{_where(finding, config)}: [{finding.language}] {finding.message}")
        for language, reason in result.unavailable.items():
            print(f"unchecked {language} files: {reason}", file=sys.stderr)
        print(f"{len(result.files)} files, {len(findings)} broken", file=sys.stderr)
    return EXIT_BROKEN if findings else EXIT_OK


# --- probe ----------------------------------------------------------------


def cmd_probe(args: argparse.Namespace) -> int:
    from mechanic.store import Store
    from probes import health

    config = _config(args)
    _setup_logging(config, quiet=True)
    with Store.open(config.mechanic.state_dir) as store:
        if args.reset:
            state = health.reset(config, store, args.reset)
            if state is None:
                print(f"{args.reset} has not been judged by a cycle yet: nothing to reset")
            else:
                print(f"{args.reset}: reset; on_down actions are allowed again ({state.status})")
            if not args.names:
                return EXIT_OK
        if not config.probes:
            print("no [[probe]] in the config", file=sys.stderr)
            return EXIT_OK
        results = health.look(config, store, args.names)
    if args.json:
        print(report.dumps([report.probe_result(r) for r in results]))
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            print(f"{r.status:<9} {r.name:<{width}} {r.latency_ms:7.0f} ms  {r.message}")
    return EXIT_OK if all(r.status == "ok" for r in results) else EXIT_BROKEN


def _probe_rows(config: Config, store) -> list[dict]:
    """Each configured probe's health for `status`, in config order."""
    states = store.probe_states()
    return [report.probe_health(s.name, s.type, states.get(s.name)) for s in config.probes]


# --- status / log ---------------------------------------------------------


def cmd_status(args: argparse.Namespace) -> int:
    from mechanic.store import Store

    config = _config(args)
    with Store.open(config.mechanic.state_dir) as store:
        totals = store.totals()
        last = store.last_cycle()
        recent = store.recent_attempts(10)
        cooling = store.cooldowns()
        runtime = store.runtime_errors()
        waiting = len(store.pending())  # review mode
        rungs = store.rung_stats()
        given_up = store.needs_person()
        probe_rows = _probe_rows(config, store)
        store_id = store.store_id
        fix_actions = store.fix_actions()
    from mechanic.daemon.main import running_daemon

    daemon = running_daemon(config.mechanic.state_dir)
    if args.json:
        shown_status = report.status(
            totals_row=totals,
            last=last,
            recent=recent,
            cooldowns=cooling,
            daemon=daemon,
            pending=waiting,
            runtime=runtime,
            rungs=rungs,
            given_up=given_up,
            probes=probe_rows,
            store_id=store_id,
            fix_actions=fix_actions,
        )
        print(report.dumps(shown_status))
        return EXIT_OK
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    def cell(text: str) -> str:  # a name or a reason is text, never rich markup
        return escape(readable(text or ""))

    console = Console()
    console.print(
        f"[bold]mechanic[/bold] {__version__}  config {config.source}\n"
        f"cycles {totals['cycles']}  attempts {totals['attempts']}  applied {totals['applied']}"
        f"  reverted {totals['reverted']}  rejected {totals['rejected']}"
        f"  skipped {totals['skipped']}  tokens {totals['prompt_tokens']}+{totals['answer_tokens']}"
    )
    if daemon:
        console.print(
            f"daemon: running, pid {daemon.get('pid')}, watching with {daemon.get('watcher')}"
            + (
                f"  [red]{daemon['watcher_fallback']}[/red]"
                if daemon.get("watcher_fallback")
                else ""
            )
        )
    else:
        console.print("daemon: not running (mechanic run, or mechanic service install)")
    if waiting:
        console.print(f"{waiting} fix(es) waiting for review: mechanic pending")
    if last:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last["started_at"]))
        console.print(
            f"last cycle #{last['id']} at {when}: {last['files_seen']} files,"
            f" {last['findings']} broken, {last['applied']} fixed, {last['remaining']} remaining"
            + (f"  [red]{last['error']}[/red]" if last["error"] else "")
        )
    else:
        console.print("no cycle has run yet: try `mechanic once`")
    if recent:
        table = Table(title="recent attempts")
        for column in ("id", "when", "file", "rung", "outcome", "reason", "tokens"):
            table.add_column(column)
        for attempt in recent:
            tokens = (
                f"{attempt.prompt_tokens}+{attempt.answer_tokens or 0}"
                if attempt.prompt_tokens is not None
                else ""
            )
            outcome = attempt.outcome + (" (undone)" if attempt.undone_at else "")
            table.add_row(
                str(attempt.id),
                time.strftime("%m-%d %H:%M", time.localtime(attempt.started_at)),
                cell(_rel(attempt.path, config)),
                attempt.rung or "",
                outcome,
                cell(attempt.reason),
                tokens,
            )
        console.print(table)
    if runtime:
        table = Table(title="runtime errors from logs (until the file changes)")
        for column in ("file", "error", "seen", "last"):
            table.add_column(column)
        for error in runtime:
            where = _rel(error.path, config) + (f":{error.line}" if error.line else "")
            last = time.strftime("%m-%d %H:%M", time.localtime(error.last_seen))
            table.add_row(cell(where), cell(error.message), str(error.count), last)
        console.print(table)
    if rungs:
        table = Table(title="by rung (fix rate and cost)")
        for column in ("rung", "attempts", "fixed", "fix rate", "tokens", "seconds"):
            table.add_column(column)
        for rung in rungs:
            table.add_row(
                rung["rung"],
                str(rung["attempts"]),
                str(rung["applied"]),
                f"{rung['fix_rate']:.0%}",
                f"{rung['prompt_tokens']}+{rung['answer_tokens']}",
                f"{rung['seconds']:.1f}",
            )
        console.print(table)
    if given_up:
        table = Table(title="needs a person (left alone until the file changes)")
        for column in ("file", "why", "reason"):
            table.add_column(column)
        for path, item in given_up.items():
            table.add_row(cell(_rel(path, config)), item["kind"], cell(item["reason"]))
        console.print(table)
    if cooling:
        table = Table(title="in cooldown")
        table.add_column("file")
        table.add_column("until")
        for path, until in sorted(cooling.items()):
            table.add_row(
                cell(_rel(path, config)), time.strftime("%Y-%m-%d %H:%M", time.localtime(until))
            )
        console.print(table)
    if fix_actions:
        table = Table(title="on_fix actions (after an applied fix)")
        for column in ("when", "root", "result", "files"):
            table.add_column(column)
        for item in fix_actions:
            table.add_row(
                time.strftime("%m-%d %H:%M", time.localtime(item["at"])),
                cell(item["root"]),
                cell(item["detail"]),
                cell(", ".join(_rel(f, config) for f in item["files"])),
            )
        console.print(table)
    if probe_rows:
        _print_probe_table(console, probe_rows)
    return EXIT_OK


def _print_probe_table(console, rows: list[dict]) -> None:
    from rich.markup import escape
    from rich.table import Table

    colours = {"ok": "green", "degraded": "yellow", "down": "red", "error": "magenta"}
    table = Table(title="probes")
    for column in ("probe", "status", "since", "last message", "latency"):
        table.add_column(column)
    for row in rows:
        status = row["status"] + (" (given up)" if row["given_up"] else "")
        colour = colours.get(row["status"], "dim")
        since = datetime.fromisoformat(row["since"]).strftime("%m-%d %H:%M") if row["since"] else ""
        latency = f"{row['latency_ms']:.0f} ms" if row["latency_ms"] is not None else ""
        table.add_row(
            row["name"],
            f"[{colour}]{escape(status)}[/{colour}]",
            since,
            escape(row["message"]),
            latency,
        )
    console.print(table)


def cmd_log(args: argparse.Namespace) -> int:
    from mechanic.log import LOG_NAME, format_line

    config = _config(args)
    path = config.mechanic.state_dir / LOG_NAME
    if not path.exists() and not args.follow:
        print(f"no log yet at {path}", file=sys.stderr)
        return EXIT_OK
    lines: list[str] = []
    if path.exists():
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()
    for line in lines[-args.lines :] if args.lines > 0 else []:
        print(format_line(line), flush=True)
    if not args.follow:
        return EXIT_OK
    return _follow(path, len("".join(lines).encode("utf-8")), format_line)


def _follow(path: Path, offset: int, format_line: Callable[[str], str]) -> int:
    from mechanic.files.tail import Tail

    tail = Tail.at(path, offset)  # across rotation and truncation (mechanic/files/tail.py)
    try:
        while True:
            try:
                data = tail.read()
            except FileNotFoundError:
                data = b""
            for line in data.decode("utf-8", "replace").splitlines():
                print(format_line(line), flush=True)
            time.sleep(0.5)
    except KeyboardInterrupt:
        return EXIT_OK


# --- protect / revert -----------------------------------------------------


def cmd_protect(args: argparse.Namespace) -> int:
    from mechanic.config import edit as config_edit

    path = find_config(args.config)
    load_config(path)  # refuse to edit a config that does not load
    if args.action == "list":
        for pattern in config_edit.list_protected(path):
            print(pattern)
        return EXIT_OK
    if not args.pattern:
        raise ConfigError(f"`mechanic protect {args.action}` needs a PATTERN")
    if args.action == "add":
        changed = config_edit.add_protected(path, args.pattern)
        print(f"{'added' if changed else 'already protected:'} {args.pattern} ({path})")
    else:
        changed = config_edit.remove_protected(path, args.pattern)
        print(f"{'removed' if changed else 'not in the protected list:'} {args.pattern} ({path})")
    return EXIT_OK


def _read_or_empty(path: Path) -> bytes:
    from mechanic.files.userfile import read_regular

    try:
        return read_regular(path)
    except OSError:
        return b""


def cmd_revert(args: argparse.Namespace) -> int:
    from mechanic.errors import Refused
    from mechanic.files.hashing import sha256
    from mechanic.files.userfile import read_regular
    from mechanic.repair.ladder import refuse
    from mechanic.store import Store
    from mechanic.write.writer import Writer

    config = _config(args)
    _setup_logging(config, quiet=True)
    with Store.open(config.mechanic.state_dir) as store:
        attempt = store.attempt(args.attempt)
        if attempt is None:
            print(f"mechanic: {_unknown_id(store, 'attempt', args.attempt)}", file=sys.stderr)
            return EXIT_BROKEN
        if attempt.outcome != "applied" or not attempt.backup_path:
            print(
                f"mechanic: attempt #{attempt.id} was {attempt.outcome}: nothing to revert",
                file=sys.stderr,
            )
            return EXIT_BROKEN
        if attempt.undone_at:
            print(f"mechanic: attempt #{attempt.id} was already reverted", file=sys.stderr)
            return EXIT_BROKEN
        target = Path(attempt.path)
        writer = Writer.for_config(config, review=False)  # a person asked for it
        try:
            current = read_regular(target)
        except OSError as exc:
            print(f"mechanic: cannot read {shown(target)}: {exc.strerror}", file=sys.stderr)
            return EXIT_BROKEN
        if sha256(current) != attempt.new_sha:
            print(
                f"mechanic: {shown(target)} does not hold what attempt #{attempt.id} wrote"
                " (it changed since, or the ID is not the one you mean); it is left as it is",
                file=sys.stderr,
            )
            return EXIT_BROKEN
        try:
            intent = writer.restore_backup(
                target,
                backup=Path(attempt.backup_path),
                expected=current,
                original_sha=attempt.old_sha,
                undoes=attempt.id,
            )
        except Refused as exc:  # main prints it; the user asked for a revert
            raise Refused(f"not reverted: {exc}") from None
        store.mark_undone(attempt.id)
        writer.settle(intent)
        # Taken back by a person: never re-applied by itself (memory, examples, rungs).
        restored = _read_or_empty(target)
        refuse(
            store,
            path=attempt.path,
            language=attempt.language,
            old_sha=attempt.old_sha or sha256(restored),
            original=restored,
            fixed=current,
            how="reverted",
            attempt_id=attempt.id,
            rung=attempt.rung,
        )
    import structlog

    structlog.get_logger("mechanic.cli").info("repair.undone", attempt=attempt.id, file=str(target))
    print(f"reverted attempt #{attempt.id}: {shown(target)} holds its original bytes again")
    return EXIT_OK


def _unknown_id(store, what: str, number: int) -> str:
    """Why `number` names no attempt (or patch): when it is below this store's
    first ID, it was handed out by the store this one replaced."""
    text = f"no {what} #{number} in this store"
    if 0 < number <= store.id_floor:
        text += (
            f": its IDs start at {store.id_floor + 1}, since it replaced an older store;"
            f" #{number} belonged to that one (kept aside in {shown(store.path.parent)})"
        )
    return text


# --- store -----------------------------------------------------------------


def cmd_store(args: argparse.Namespace) -> int:
    """`mechanic store check [--rebuild]`: is the store usable, and if not, keep
    it aside and start a new one whose IDs never repeat the old one's."""
    from mechanic.cycle import cycle_lock
    from mechanic.store import check_store, rebuild_store

    config = _config(args)
    state_dir = config.mechanic.state_dir
    found = check_store(state_dir)
    if args.rebuild and found.exists and found.problem:
        _setup_logging(config, quiet=True)
        with cycle_lock(state_dir):  # no cycle writes to the old file while it moves
            kept, store = rebuild_store(state_dir)
            store.close()
        import structlog

        structlog.get_logger("mechanic.cli").warning(
            "store.rebuilt", problem=found.problem, kept=str(kept), store_id=store.store_id
        )
        print(readable(found.problem))
        print(f"kept aside as {shown(kept)}")
        print(
            f"new store {store.store_id}: its attempt and patch IDs start at"
            f" {store.id_floor + 1}, so no ID of the old store names a new attempt"
        )
        return EXIT_OK
    if args.json:
        print(report.dumps(report.store_check(found)))
    elif not found.exists:
        print(f"no store yet at {shown(found.path)}: the first command that needs one makes it")
    elif found.problem:
        print(f"{readable(found.problem)}\n  to repair it, {found.repair}")
    else:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(found.created_at or 0))
        print(f"{shown(found.path)}: ok ({found.size:,} bytes, integrity check: ok)")
        print(f"  store id {found.store_id}, schema {found.schema}, created {created}")
        first = f", IDs from {found.id_floor + 1}" if found.id_floor else ""
        print(f"  {found.attempts} attempts, highest #{found.highest_attempt or 0}{first}")
        if args.rebuild:
            print("  the store is usable: nothing rebuilt")
    return EXIT_USAGE if found.problem else EXIT_OK


# --- run / service / doctor ----------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from mechanic.daemon import main as daemon

    return daemon.run(find_config(args.config))


def cmd_service(args: argparse.Namespace) -> int:
    from mechanic.daemon import service as services
    from mechanic.daemon.main import running_daemon

    path = find_config(args.config)
    config = load_config(path)  # a service that cannot load its config would only crash-loop
    service = services.Service(args.platform or services.current_platform(), path.absolute())
    if args.action == "install":
        if args.dry_run:
            print(service.render(), end="")
            return EXIT_OK
        services.install(service)
        print(f"mechanic runs as a {service.platform} service; its log: {_log_hint(service)}")
        return EXIT_OK
    if args.action == "uninstall":
        if args.dry_run:
            for argv in service.stop_commands() if service.tool else []:
                print(f"would run: {shlex.join(argv)}")
            print(f"would remove: {service.path}")
            return EXIT_OK
        if not services.uninstall(service):
            print(f"not installed: no {service.path}")
        return EXIT_OK
    installed = service.path.exists()
    print(f"service file: {service.path} ({'installed' if installed else 'not installed'})")
    if installed and service.path.read_text(encoding="utf-8") != service.render():
        print("  it differs from what `mechanic service install` writes now: run that again")
    tool = service.tool
    loaded = installed and tool is not None and service.loaded()
    if tool is None:
        print(
            f"service manager: {'systemctl' if service.platform == 'systemd' else 'launchctl'}"
            " not found"
        )
    else:
        print(f"service manager: {'running' if loaded else 'not running'}")
    daemon = running_daemon(config.mechanic.state_dir)
    if daemon:
        watcher = daemon.get("watcher")
        print(
            f"daemon: running, pid {daemon.get('pid')}"
            + (f", watching with {watcher}" if watcher else "")
        )
    else:
        print(f"daemon: none running on {config.mechanic.state_dir}")
    print(f"log: {_log_hint(service)}")
    return EXIT_OK if loaded else EXIT_BROKEN


def cmd_doctor(args: argparse.Namespace) -> int:
    from mechanic.daemon import doctor

    config, checks = doctor.diagnose(find_config(args.config).absolute())
    print(doctor.report(checks))
    if config is None:
        return EXIT_USAGE
    return EXIT_BROKEN if any(c.verdict == doctor.PROBLEM for c in checks) else EXIT_OK


def _log_hint(service) -> str:
    if service.platform == "systemd":
        return "journalctl --user -u mechanic -f  (or: mechanic log -f)"
    return f"tail -f {service.log_dir}/mechanic.err.log  (or: mechanic log -f)"


# --- review mode: pending / accept / reject ------------------------------


def cmd_pending(args: argparse.Namespace) -> int:
    from mechanic.store import Store

    config = _config(args)
    with Store.open(config.mechanic.state_dir) as store:
        patches = store.pending()
        made_by = {
            p["id"]: store.attempt(p["attempt_id"]) if p["attempt_id"] else None for p in patches
        }
    if args.json:
        print(report.dumps([report.patch(p, made_by[p["id"]]) for p in patches]))
        return EXIT_OK
    if not patches:
        print("no fixes are waiting for review")
        return EXIT_OK
    for patch in patches:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(patch["created_at"]))
        print(f"#{patch['id']}  {_rel(patch['path'], config)}  ({when}): {patch['error']}")
        print((patch["diff"] or "").rstrip())
        print(f"  accept: mechanic accept {patch['id']}   reject: mechanic reject {patch['id']}\n")
    return EXIT_OK


def cmd_accept(args: argparse.Namespace) -> int:
    import structlog

    from mechanic.cycle import cycle_lock
    from mechanic.store import Store
    from mechanic.write import gitcommit, review
    from mechanic.write.writer import Writer
    from probes.remediation import run_on_fix

    config = _config(args)
    _setup_logging(config, quiet=True)
    actions = []
    with Store.open(config.mechanic.state_dir) as store, cycle_lock(config.mechanic.state_dir):
        if store.pending_patch(args.patch) is None:
            print(f"mechanic: {_unknown_id(store, 'pending patch', args.patch)}", file=sys.stderr)
            return EXIT_BROKEN
        writer = Writer.for_config(config, review=False)  # a person decided: it is written
        record = review.accept(config, store, args.patch, writer)
        if record.outcome == "applied" and writer.git_commit:
            record.reason += f"; {gitcommit.commit_fix(record, config)}"
        store.record_attempt(record)
        writer.settle(record.intent)  # on the record: the intent goes
        if record.outcome == "applied":
            patch = store.pending_patch(args.patch)
            store.decide_pending(args.patch, "accepted", record.id)
            review.drop_bytes(store, patch)
            # An accepted fix is applied like a cycle's: its root's on_fix follows.
            actions = run_on_fix(config, [record.path])
            for action in actions:
                store.record_fix_action(None, action)
    structlog.get_logger("mechanic.cli").info(
        f"repair.{record.outcome}", file=record.path, attempt=record.id, patch=args.patch
    )
    if record.outcome != "applied":
        print(f"mechanic: patch #{args.patch} not applied: {record.reason}", file=sys.stderr)
        return EXIT_BROKEN
    print(
        f"applied patch #{args.patch} to {shown(record.path)} (attempt #{record.id}):"
        f" {readable(record.reason)}"
    )
    print(f"  backup {shown(record.backup_path or '')} (undo: mechanic revert {record.id})")
    for action in actions:
        print(f"  on_fix {shown(action.root)}: {readable(action.detail)}")
    return EXIT_OK


def cmd_reject(args: argparse.Namespace) -> int:
    from mechanic.files.hashing import sha256
    from mechanic.repair.ladder import refuse
    from mechanic.store import Store
    from mechanic.write import review

    config = _config(args)
    with Store.open(config.mechanic.state_dir) as store:
        if store.pending_patch(args.patch) is None:
            print(f"mechanic: {_unknown_id(store, 'pending patch', args.patch)}", file=sys.stderr)
            return EXIT_BROKEN
        patch = review.reject(store, args.patch, stale=args.stale)
        # Turned down by a person: this content is not attempted again by itself.
        current = _read_or_empty(Path(patch["path"]))
        refuse(
            store,
            path=patch["path"],
            language=patch["language"],
            old_sha=patch["old_sha"],
            original=current if sha256(current) == patch["old_sha"] else None,
            fixed=_read_or_empty(Path(patch["fix_path"])) or None,
            how="rejected",
            attempt_id=patch["attempt_id"],
            rung=None,
        )
        review.drop_bytes(store, patch)
    print(f"rejected patch #{args.patch}: {shown(patch['path'])} is left as it is")
    again = f"mechanic retry {shown(patch['path'])}"
    print(f"  it is not attempted again until the file changes, or: {again}")
    return EXIT_OK


def cmd_retry(args: argparse.Namespace) -> int:
    from mechanic.store import Store

    config = _config(args)
    _setup_logging(config, quiet=True)
    real = Path(os.path.realpath(Path(args.file).expanduser().absolute()))
    roots = [Path(os.path.realpath(w.path)) for w in config.watches]
    if not any(root == real or root in real.parents for root in roots):
        print(f"mechanic: {shown(real)} is outside every watch root", file=sys.stderr)
        return EXIT_BROKEN
    with Store.open(config.mechanic.state_dir) as store:
        lifted = store.retry(str(real))
        cooling = str(real) in store.cooldowns()
        store.clear_cooldown(str(real))
        person = str(real) in store.needs_person()
        store.clear_needs_person(str(real))
    import structlog

    structlog.get_logger("mechanic.cli").info(
        "repair.retry", file=str(real), refusals=lifted, cooldown=cooling, needs_person=person
    )
    if not (lifted or cooling or person):
        print(f"nothing held {shown(real)} back; the next cycle attempts it if it is broken")
        return EXIT_OK
    print(f"{shown(real)} is attempted again in the next cycle")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from mechanic.cycle import cycle_lock
    from mechanic.detect.checkers import CheckerSet, language_of
    from mechanic.files.hashing import sha256
    from mechanic.files.userfile import read_regular
    from mechanic.repair.baseline import git_head_version
    from mechanic.store import AttemptRecord, Store
    from mechanic.write.writer import Writer

    config = _config(args)
    _setup_logging(config, quiet=True)
    path = Path(args.file).expanduser().absolute()
    real = Path(os.path.realpath(path))
    writer = Writer.for_config(config, review=False)  # a person asked for it
    language = language_of(real)
    if writer.guard.is_protected(path) or language is None:
        why = "is protected or outside every watch root" if language else "has no checker"
        print(f"mechanic: {shown(path)} {why}: not restored", file=sys.stderr)
        return EXIT_BROKEN
    with (
        Store.open(config.mechanic.state_dir) as store,
        cycle_lock(config.mechanic.state_dir),
        CheckerSet(node=config.mechanic.node) as checkers,
    ):
        found = store.good_version(str(real))
        good, source = (found[1], "last good version") if found else (None, "")
        if good is None:
            good, source = git_head_version(real), "version at git HEAD"
        if good is None:
            print(f"mechanic: no good version of {shown(path)} is known", file=sys.stderr)
            return EXIT_BROKEN
        try:
            current = read_regular(real)
        except OSError as exc:
            print(f"mechanic: cannot read {shown(path)}: {exc.strerror}", file=sys.stderr)
            return EXIT_BROKEN
        record = AttemptRecord(
            path=str(real),
            language=language,
            error=f"restore of its {source} requested",
            outcome="skipped",
            old_sha=sha256(current),
            started_at=time.time(),
            rung="restore",
        )
        result = writer.restore_version(
            real,
            current=current,
            good=good,
            checker=checkers.get(language),
            attempt=record.to_dict(),
        )
        record.outcome, record.reason = result.outcome, result.reason
        record.backup_path = str(result.backup_path) if result.backup_path else None
        record.diff, record.new_sha, record.intent = result.diff, result.new_sha, result.intent
        store.record_attempt(record)
        writer.settle(record.intent)
        if result.outcome == "applied":
            store.clear_needs_person(str(real))
    import structlog

    structlog.get_logger("mechanic.cli").info(
        "restore." + result.outcome, file=str(real), reason=result.reason, attempt=record.id
    )
    if result.outcome != "applied":
        print(f"mechanic: {shown(path)} not restored: {readable(result.reason)}", file=sys.stderr)
        return EXIT_BROKEN
    print(
        f"restored {shown(path)} to its {source};"
        f" the bytes it held are in {shown(result.backup_path or '')}"
        f" (undo: mechanic revert {record.id})"
    )
    return EXIT_OK


# --- entry point ----------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mechanic", description=__doc__)
    parser.add_argument("--version", action="version", version=f"mechanic {__version__}")
    common = _Parser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="config file (default: see README)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    once = sub.add_parser("once", parents=[common], help="run one cycle now")
    once.add_argument("--dry-run", action="store_true", help="report only: ask and write nothing")
    once.add_argument("--json", action="store_true", help="print the cycle as one JSON object")
    once.add_argument("-q", "--quiet", action="store_true", help="no log lines on stderr")
    once.set_defaults(func=cmd_once)

    check = sub.add_parser("check", parents=[common], help="list broken files, repair nothing")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_check)

    status = sub.add_parser("status", parents=[common], help="totals, last cycle, cooldowns")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    probe = sub.add_parser("probe", parents=[common], help="run Layer 1's probes now")
    probe.add_argument("names", nargs="*", metavar="NAME", help="probes to run (default: all)")
    probe.add_argument("--json", action="store_true", help="print a JSON list of results")
    probe.add_argument(
        "--reset", metavar="NAME", help="re-arm a given-up probe's on_down remediation"
    )
    probe.set_defaults(func=cmd_probe)

    log = sub.add_parser("log", parents=[common], help="print the mechanic log readably")
    log.add_argument("-f", "--follow", action="store_true")
    log.add_argument("-n", "--lines", type=int, default=20, metavar="N")
    log.set_defaults(func=cmd_log)

    protect = sub.add_parser("protect", parents=[common], help="edit the protected list")
    protect.add_argument("action", choices=["add", "remove", "list"])
    protect.add_argument("pattern", nargs="?")
    protect.set_defaults(func=cmd_protect)

    revert = sub.add_parser("revert", parents=[common], help="undo an applied fix")
    revert.add_argument("attempt", type=int, metavar="ATTEMPT")
    revert.set_defaults(func=cmd_revert)

    store = sub.add_parser("store", parents=[common], help="check (or rebuild) the state store")
    store.add_argument("action", choices=["check"])
    store.add_argument(
        "--rebuild",
        action="store_true",
        help="if it is unusable: keep it aside (renamed) and start a new store",
    )
    store.add_argument("--json", action="store_true", help="print the check as one JSON object")
    store.set_defaults(func=cmd_store)

    run = sub.add_parser(
        "run", parents=[common], help="the daemon, in the foreground: cycles, file watching"
    )
    run.set_defaults(func=cmd_run)

    service = sub.add_parser(
        "service", parents=[common], help="install, remove or inspect mechanic as a user service"
    )
    service.add_argument("action", choices=["install", "uninstall", "status"])
    service.add_argument(
        "--dry-run", action="store_true", help="install: print the rendered file only"
    )
    service.add_argument(
        "--platform",
        choices=["systemd", "launchd"],
        help="render for this service manager (default: this machine's)",
    )
    service.set_defaults(func=cmd_service)

    doctor = sub.add_parser(
        "doctor", parents=[common], help="check everything mechanic needs; say how to fix it"
    )
    doctor.set_defaults(func=cmd_doctor)

    pending = sub.add_parser(
        "pending", parents=[common], help="review mode: fixes waiting for you, with diffs"
    )
    pending.add_argument("--json", action="store_true")
    pending.set_defaults(func=cmd_pending)

    accept = sub.add_parser("accept", parents=[common], help="apply a pending fix")
    accept.add_argument("patch", type=int, metavar="ID")
    accept.set_defaults(func=cmd_accept)

    reject = sub.add_parser("reject", parents=[common], help="drop a pending fix")
    reject.add_argument("patch", type=int, metavar="ID")
    reject.add_argument(
        "--stale", action="store_true", help="drop it even though its file changed since"
    )
    reject.set_defaults(func=cmd_reject)

    retry = sub.add_parser(
        "retry", parents=[common], help="attempt a file again after a revert or reject"
    )
    retry.add_argument("file", metavar="FILE")
    retry.set_defaults(func=cmd_retry)

    restore = sub.add_parser(
        "restore", parents=[common], help="bring back a file's last good version"
    )
    restore.add_argument("file", metavar="FILE")
    restore.set_defaults(func=cmd_restore)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # A name missed by `shown` prints escaped rather than crashing the command.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    # The one place errors are caught: a command raises, and the user sees one line
    # naming the problem and the exit code the command table documents.
    try:
        return args.func(args)
    except ConfigError as exc:  # ProbeConfigError too
        print(f"mechanic: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StoreUnusable as exc:  # nothing runs on it until a person repairs it
        config = f" --config {shlex.quote(args.config)}" if args.config else ""
        repair = exc.repair.replace(StoreUnusable.REBUILD, StoreUnusable.REBUILD + config)
        print(f"mechanic: {readable(exc.problem)}\n  to repair it, {repair}", file=sys.stderr)
        return EXIT_USAGE
    except Busy as exc:  # CycleBusy, DaemonRunning
        print(f"mechanic: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except MechanicError as exc:  # Refused, ReviewError, ServiceError, StoreError, ...
        print(f"mechanic: {readable(str(exc))}", file=sys.stderr)
        return EXIT_BROKEN
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
