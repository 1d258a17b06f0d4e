"""Review mode: `pending`, `accept`, `reject`."""

from __future__ import annotations

import argparse
import sys
import time

from mechanic import report
from mechanic.cli.common import (
    EXIT_BROKEN,
    EXIT_OK,
    config_of,
    rel,
    setup_logging,
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
    from mechanic.repair import manual
    from mechanic.store import Store

    config = config_of(args)
    setup_logging(config, quiet=True)
    with Store.open(config.mechanic.state_dir) as store:
        done = manual.accept(config, store, args.patch)
    record = done.record
    if record.outcome != "applied":
        print(f"mechanic: patch #{args.patch} not applied: {record.reason}", file=sys.stderr)
        return EXIT_BROKEN
    print(
        f"applied patch #{args.patch} to {shown(record.path)} (attempt #{record.id}):"
        f" {readable(record.reason)}"
    )
    print(f"  backup {shown(record.backup_path or '')} (undo: mechanic revert {record.id})")
    for action in done.actions:
        print(f"  on_fix {shown(action.root)}: {readable(action.detail)}")
    return EXIT_OK


def cmd_reject(args: argparse.Namespace) -> int:
    from mechanic.repair import manual
    from mechanic.store import Store

    config = config_of(args)
    with Store.open(config.mechanic.state_dir) as store:
        patch = manual.reject(store, args.patch, stale=args.stale)
    print(f"rejected patch #{args.patch}: {shown(patch.path)} is left as it is")
    again = f"mechanic retry {shown(patch.path)}"
    print(f"  it is not attempted again until the file changes, or: {again}")
    return EXIT_OK
