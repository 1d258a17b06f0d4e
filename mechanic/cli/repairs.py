"""`once`, `check`, `retry`, `revert`, `restore`: find broken files, repair them, undo."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mechanic import report
from mechanic.cli.common import (
    EXIT_BROKEN,
    EXIT_OK,
    config_of,
    rel,
    setup_logging,
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
    from mechanic.cycle import check
    from mechanic.store import Store

    config = config_of(args)
    setup_logging(config, quiet=True)
    with Store.open(config.mechanic.state_dir) as store:
        result = check(config, store)
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
    from mechanic.repair import manual
    from mechanic.store import Store

    config = config_of(args)
    setup_logging(config, quiet=True)
    with Store.open(config.mechanic.state_dir) as store:
        attempt = manual.revert(config, store, args.attempt)
    print(f"reverted attempt #{attempt.id}: {shown(attempt.path)} holds its original bytes again")
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
    from mechanic.repair import manual

    config = config_of(args)
    setup_logging(config, quiet=True)
    path = Path(args.file).expanduser().absolute()
    done = manual.restore(config, path)
    record = done.record
    if record.outcome != "applied":
        print(f"mechanic: {shown(path)} not restored: {readable(done.reason)}", file=sys.stderr)
        return EXIT_BROKEN
    print(
        f"restored {shown(path)} to its {done.source};"
        f" the bytes it held are in {shown(record.backup_path or '')}"
        f" (undo: mechanic revert {record.id})"
    )
    return EXIT_OK
