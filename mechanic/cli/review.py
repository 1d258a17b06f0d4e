"""Review mode: `pending`, `accept`, `reject`."""

from __future__ import annotations

import argparse
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
)
from mechanic.files.names import readable, shown


def cmd_pending(args: argparse.Namespace) -> int:
    from mechanic.store import Store

    config = config_of(args)
    with Store.open(config.mechanic.state_dir) as store:
        patches = store.pending()
        made_by = {p.id: store.attempt(p.attempt_id) if p.attempt_id else None for p in patches}
    if args.json:
        print(report.dumps([report.patch(p.to_dict(), made_by[p.id]) for p in patches]))
        return EXIT_OK
    if not patches:
        print("no fixes are waiting for review")
        return EXIT_OK
    for patch in patches:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(patch.created_at))
        print(f"#{patch.id}  {rel(patch.path, config)}  ({when}): {patch.error}")
        print((patch.diff or "").rstrip())
        print(f"  accept: mechanic accept {patch.id}   reject: mechanic reject {patch.id}\n")
    return EXIT_OK


def cmd_accept(args: argparse.Namespace) -> int:
    import structlog

    from mechanic.cycle import cycle_lock
    from mechanic.store import Store
    from mechanic.write import gitcommit, review
    from mechanic.write.writer import Writer
    from probes.remediation import run_on_fix

    config = config_of(args)
    setup_logging(config, quiet=True)
    actions = []
    with Store.open(config.mechanic.state_dir) as store, cycle_lock(config.mechanic.state_dir):
        patch = store.pending_patch(args.patch)
        if patch is None:
            print(f"mechanic: {unknown_id(store, 'pending patch', args.patch)}", file=sys.stderr)
            return EXIT_BROKEN
        writer = Writer.for_config(config, review=False)  # a person decided: it is written
        record = review.accept(config, store, args.patch, writer)
        if record.outcome == "applied" and writer.git_commit:
            record.reason += f"; {gitcommit.commit_fix(record, config)}"
        store.record_attempt(record)
        writer.settle(record.intent)  # on the record: the intent goes
        if record.outcome == "applied":
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

    config = config_of(args)
    with Store.open(config.mechanic.state_dir) as store:
        if store.pending_patch(args.patch) is None:
            print(f"mechanic: {unknown_id(store, 'pending patch', args.patch)}", file=sys.stderr)
            return EXIT_BROKEN
        patch = review.reject(store, args.patch, stale=args.stale)
        # Turned down by a person: this content is not attempted again by itself.
        current = read_or_empty(Path(patch.path))
        refuse(
            store,
            path=patch.path,
            language=patch.language,
            old_sha=patch.old_sha,
            original=current if sha256(current) == patch.old_sha else None,
            fixed=read_or_empty(Path(patch.fix_path)) or None,
            how="rejected",
            attempt_id=patch.attempt_id,
            rung=None,
        )
        review.drop_bytes(store, patch)
    print(f"rejected patch #{args.patch}: {shown(patch.path)} is left as it is")
    again = f"mechanic retry {shown(patch.path)}"
    print(f"  it is not attempted again until the file changes, or: {again}")
    return EXIT_OK
