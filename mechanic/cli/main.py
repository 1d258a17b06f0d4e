"""The `mechanic` command: each subcommand reads as what the user wants done."""

# This module is the parser and `main`, the one place errors are caught; each group
# of commands lives in its own thin module beside it (repairs, review, status...).

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from collections.abc import Sequence
from typing import NoReturn

from mechanic import __version__
from mechanic.cli import probe, protect, repairs, review, service, status, store
from mechanic.cli.common import (
    EXIT_BROKEN,
    EXIT_BUSY,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
)
from mechanic.errors import Busy, ConfigError, MechanicError, StoreUnusable
from mechanic.files.names import readable


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors exit 2, like config errors
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"mechanic: error: {message}\n")


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
    once.set_defaults(func=repairs.cmd_once)

    check = sub.add_parser("check", parents=[common], help="list broken files, repair nothing")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=repairs.cmd_check)

    status_parser = sub.add_parser("status", parents=[common], help="totals, last cycle, cooldowns")
    status_parser.add_argument("--json", action="store_true")
    status_parser.set_defaults(func=status.cmd_status)

    probe_parser = sub.add_parser("probe", parents=[common], help="run Layer 1's probes now")
    probe_parser.add_argument(
        "names", nargs="*", metavar="NAME", help="probes to run (default: all)"
    )
    probe_parser.add_argument("--json", action="store_true", help="print a JSON list of results")
    probe_parser.add_argument(
        "--reset", metavar="NAME", help="re-arm a given-up probe's on_down remediation"
    )
    probe_parser.set_defaults(func=probe.cmd_probe)

    log = sub.add_parser("log", parents=[common], help="print the mechanic log readably")
    log.add_argument("-f", "--follow", action="store_true")
    log.add_argument("-n", "--lines", type=int, default=20, metavar="N")
    log.set_defaults(func=service.cmd_log)

    protect_parser = sub.add_parser("protect", parents=[common], help="edit the protected list")
    protect_parser.add_argument("action", choices=["add", "remove", "list"])
    protect_parser.add_argument("pattern", nargs="?")
    protect_parser.set_defaults(func=protect.cmd_protect)

    revert = sub.add_parser("revert", parents=[common], help="undo an applied fix")
    revert.add_argument("attempt", type=int, metavar="ATTEMPT")
    revert.set_defaults(func=repairs.cmd_revert)

    store_parser = sub.add_parser(
        "store", parents=[common], help="check (or rebuild) the state store"
    )
    store_parser.add_argument("action", choices=["check"])
    store_parser.add_argument(
        "--rebuild",
        action="store_true",
        help="if it is unusable: keep it aside (renamed) and start a new store",
    )
    store_parser.add_argument(
        "--json", action="store_true", help="print the check as one JSON object"
    )
    store_parser.set_defaults(func=store.cmd_store)

    run = sub.add_parser(
        "run", parents=[common], help="the daemon, in the foreground: cycles, file watching"
    )
    run.set_defaults(func=service.cmd_run)

    service_parser = sub.add_parser(
        "service", parents=[common], help="install, remove or inspect mechanic as a user service"
    )
    service_parser.add_argument("action", choices=["install", "uninstall", "status"])
    service_parser.add_argument(
        "--dry-run", action="store_true", help="install: print the rendered file only"
    )
    service_parser.add_argument(
        "--platform",
        choices=["systemd", "launchd"],
        help="render for this service manager (default: this machine's)",
    )
    service_parser.set_defaults(func=service.cmd_service)

    doctor = sub.add_parser(
        "doctor", parents=[common], help="check everything mechanic needs; say how to fix it"
    )
    doctor.set_defaults(func=service.cmd_doctor)

    pending = sub.add_parser(
        "pending", parents=[common], help="review mode: fixes waiting for you, with diffs"
    )
    pending.add_argument("--json", action="store_true")
    pending.set_defaults(func=review.cmd_pending)

    accept = sub.add_parser("accept", parents=[common], help="apply a pending fix")
    accept.add_argument("patch", type=int, metavar="ID")
    accept.set_defaults(func=review.cmd_accept)

    reject = sub.add_parser("reject", parents=[common], help="drop a pending fix")
    reject.add_argument("patch", type=int, metavar="ID")
    reject.add_argument(
        "--stale", action="store_true", help="drop it even though its file changed since"
    )
    reject.set_defaults(func=review.cmd_reject)

    retry = sub.add_parser(
        "retry", parents=[common], help="attempt a file again after a revert or reject"
    )
    retry.add_argument("file", metavar="FILE")
    retry.set_defaults(func=repairs.cmd_retry)

    restore = sub.add_parser(
        "restore", parents=[common], help="bring back a file's last good version"
    )
    restore.add_argument("file", metavar="FILE")
    restore.set_defaults(func=repairs.cmd_restore)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # A name missed by `shown` prints escaped rather than crashing the command.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            # A stream replaced by a caller may lack reconfigure: AttributeError is suppressed.
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
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
