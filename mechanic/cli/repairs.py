"""`once`, `check`, `retry`, `revert`, `restore`: find broken files, repair them, undo."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from mechanic import report
from mechanic.cli.common import (
    EXIT_BROKEN,
    EXIT_OK,
    config_of,
    read_or_empty,
    rel,
    setup_logging,
    unknown_id,
    where,
)
from mechanic.config.settings import Config
from mechanic.files.names import readable, shown
from mechanic.plural import plural


def cmd_once(args: argparse.Namespace) -> int:
    from mechanic.cycle import run_cycle
    from mechanic.store import Store

    config = config_of(args)
    setup_logging(config, quiet=args.quiet)
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
        f"mechanic: {plural(len(scan.files), 'file')} watched, {scan.checked} checked,"
        f" {len(scan.findings)} broken"
    )
    for error in done.runtime:
        place = rel(error.path, config) + (f":{error.line}" if error.line else "")
        seen = f"seen {error.count}x" if error.count > 1 else "seen once"
        print(f"  {'runtime':<9} {place}: {error.message} ({seen} in {shown(error.log_path)})")
    for attempt in done.attempts:
        tokens = ""
        if attempt.prompt_tokens is not None:
            tokens = f" [{attempt.prompt_tokens}+{attempt.answer_tokens or 0} tokens]"
        rung = f" ({attempt.rung})" if attempt.rung else ""
        print(f"  {attempt.outcome:<9} {rel(attempt.path, config)}{rung}: {attempt.reason}{tokens}")
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
        print(f"  {'held':<9} {rel(path, config)}: {reason}")
    for language, reason in scan.unavailable.items():
        print(f"  unchecked {language} files: {reason}")
    for path, reason in scan.skipped.items():
        print(f"  {'skipped':<9} {rel(path, config)}: {reason}")
    if done.backend_error:
        print(f"model backend: {done.backend_error}")
    remaining = done.remaining
    if remaining:
        print(f"still broken: {len(remaining)}")
        for finding in remaining:
            print(f"  {where(finding, config)}: {finding.message}")
    else:
        print("nothing left broken")


def cmd_check(args: argparse.Namespace) -> int:
    from mechanic.cycle import cycle_lock
    from mechanic.detect import errorlog
    from mechanic.detect.checkers import CheckerSet
    from mechanic.detect.discovery import Finder
    from mechanic.detect.scan import scan
    from mechanic.store import Store

    config = config_of(args)
    setup_logging(config, quiet=True)
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
            print(f"{where(finding, config)}: [{finding.language}] {finding.message}")
        for language, reason in result.unavailable.items():
            print(f"unchecked {language} files: {reason}", file=sys.stderr)
        print(f"{plural(len(result.files), 'file')}, {len(findings)} broken", file=sys.stderr)
    return EXIT_BROKEN if findings else EXIT_OK


def cmd_revert(args: argparse.Namespace) -> int:
    from mechanic.errors import Refused
    from mechanic.files.hashing import sha256
    from mechanic.files.userfile import read_regular
    from mechanic.repair.ladder import refuse
    from mechanic.store import Store
    from mechanic.write.writer import Writer

    config = config_of(args)
    setup_logging(config, quiet=True)
    with Store.open(config.mechanic.state_dir) as store:
        attempt = store.attempt(args.attempt)
        if attempt is None:
            print(f"mechanic: {unknown_id(store, 'attempt', args.attempt)}", file=sys.stderr)
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
        store.mark_undone(attempt.id)  # type: ignore[arg-type]  # read from the store: has an id
        writer.settle(intent)
        # Taken back by a person: never re-applied by itself (memory, examples, rungs).
        restored = read_or_empty(target)
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


def cmd_retry(args: argparse.Namespace) -> int:
    from mechanic.store import Store

    config = config_of(args)
    setup_logging(config, quiet=True)
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

    config = config_of(args)
    setup_logging(config, quiet=True)
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
