"""`store check [--rebuild]`: is the state store usable, and starting a new one."""

from __future__ import annotations

import argparse
import time

from mechanic import report
from mechanic.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    config_of,
    setup_logging,
)
from mechanic.files.names import readable, shown
from mechanic.plural import plural


def cmd_store(args: argparse.Namespace) -> int:
    """`mechanic store check [--rebuild]`: is the store usable, and if not, keep
    it aside and start a new one whose IDs never repeat the old one's."""
    from mechanic.files.locks import cycle_lock
    from mechanic.store import check_store, rebuild_store

    config = config_of(args)
    state_dir = config.mechanic.state_dir
    found = check_store(state_dir)
    if args.rebuild and found.exists and found.problem:
        setup_logging(config, quiet=True)
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
        highest = found.highest_attempt or 0
        print(f"  {plural(found.attempts, 'attempt')}, highest #{highest}{first}")
        if args.rebuild:
            print("  the store is usable: nothing rebuilt")
    return EXIT_USAGE if found.problem else EXIT_OK
