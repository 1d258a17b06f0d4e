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
from mechanic.cli import helptext, nagios, probe, protect, repairs, review, service, status, store
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


# The global options, given before or after the command (`mechanic --json status` and
# `mechanic status --json` are one thing). The top-level parser holds their defaults;
# each command's copy defaults to SUPPRESS, so a value given before the command is not
# overwritten by the command's default. A command that takes one says so with
# `takes_<dest>` (set by _json and _quiet), so a new command gets it right by using them.
_GLOBALS = (("json", "--json"), ("quiet", "-q"))


def _global_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None if top else argparse.SUPPRESS,
        help="config file (default: $MECHANIC_CONFIG, ./config.toml, the config folder)",
    )


def _json(parser: argparse.ArgumentParser, what: str, *, top: bool = False) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help=f"print {what} as JSON",
    )
    if not top:
        parser.set_defaults(takes_json=True)


def _quiet(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="no log lines on stderr",
    )
    if not top:
        parser.set_defaults(takes_quiet=True)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mechanic",
        description=__doc__,
        epilog="Global options go before or after COMMAND; `mechanic COMMAND --help`"
        " describes a command, its options and its exit codes.",
    )
    parser.add_argument("--version", action="version", version=f"mechanic {__version__}")
    _global_options(parser, top=True)
    _json(parser, "the result (for the commands that have --json)", top=True)
    _quiet(parser, top=True)
    common = _Parser(add_help=False)
    _global_options(common, top=False)
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    def command(name: str) -> argparse.ArgumentParser:
        text = helptext.COMMANDS[name]
        return sub.add_parser(
            name,
            parents=[common],
            help=text.summary,
            description=helptext.description(text),
            epilog=helptext.epilog(text),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    once = command("once")
    once.add_argument("--dry-run", action="store_true", help="report only: ask and write nothing")
    _json(once, "the cycle as one object")
    _quiet(once)
    once.set_defaults(func=repairs.cmd_once)

    check = command("check")
    _json(check, "the findings as a list")
    check.set_defaults(func=repairs.cmd_check)

    status_parser = command("status")
    _json(status_parser, "the status as one object")
    status_parser.set_defaults(func=status.cmd_status)

    probe_parser = command("probe")
    probe_parser.add_argument(
        "names", nargs="*", metavar="NAME", help="probes to run (default: all)"
    )
    _json(probe_parser, "a list of results")
    probe_parser.add_argument(
        "--nagios",
        action="store_true",
        help="monitoring-plugin output: one status line with perfdata, exit 0/1/2/3",
    )
    probe_parser.add_argument(
        "--reset", metavar="NAME", help="re-arm a given-up probe's on_down remediation"
    )
    probe_parser.set_defaults(func=probe.cmd_probe)

    log = command("log")
    log.add_argument(
        "-f", "--follow", action="store_true", help="keep printing new lines, across rotations"
    )
    log.add_argument(
        "-n", "--lines", type=int, default=20, metavar="N", help="lines to print (default 20)"
    )
    log.set_defaults(func=service.cmd_log)

    protect_parser = command("protect")
    protect_parser.add_argument(
        "action", choices=["add", "remove", "list"], help="add or remove PATTERN, or list all"
    )
    protect_parser.add_argument(
        "pattern", nargs="?", help="a glob, relative to a watch root (e.g. 'vendor/**')"
    )
    protect_parser.set_defaults(func=protect.cmd_protect)

    revert = command("revert")
    revert.add_argument(
        "attempt", type=int, metavar="ATTEMPT", help="the attempt ID (see `mechanic status`)"
    )
    revert.set_defaults(func=repairs.cmd_revert)

    store_parser = command("store")
    store_parser.add_argument("action", choices=["check"], help="check: the only action")
    store_parser.add_argument(
        "--rebuild",
        action="store_true",
        help="if it is unusable: keep it aside (renamed) and start a new store",
    )
    _json(store_parser, "the check as one object")
    store_parser.set_defaults(func=store.cmd_store)

    run = command("run")
    run.set_defaults(func=service.cmd_run)

    service_parser = command("service")
    service_parser.add_argument(
        "action", choices=["install", "uninstall", "status"], help="what to do with the service"
    )
    service_parser.add_argument(
        "--dry-run", action="store_true", help="install: print the rendered file only"
    )
    service_parser.add_argument(
        "--platform",
        choices=["systemd", "launchd"],
        help="render for this service manager (default: this machine's)",
    )
    service_parser.set_defaults(func=service.cmd_service)

    doctor = command("doctor")
    doctor.set_defaults(func=service.cmd_doctor)

    pending = command("pending")
    _json(pending, "the pending fixes as a list")
    pending.set_defaults(func=review.cmd_pending)

    accept = command("accept")
    accept.add_argument("patch", type=int, metavar="ID", help="the pending fix's ID")
    accept.set_defaults(func=review.cmd_accept)

    reject = command("reject")
    reject.add_argument("patch", type=int, metavar="ID", help="the pending fix's ID")
    reject.add_argument(
        "--stale", action="store_true", help="drop it even though its file changed since"
    )
    reject.set_defaults(func=review.cmd_reject)

    retry = command("retry")
    retry.add_argument("file", metavar="FILE", help="the file, as a path")
    retry.set_defaults(func=repairs.cmd_retry)

    restore = command("restore")
    restore.add_argument("file", metavar="FILE", help="the file, as a path")
    restore.set_defaults(func=repairs.cmd_restore)
    return parser


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, global options wherever they were given; a global option
    the command does not take (`mechanic --json log`) is a usage error."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(words)
        for dest, flag in _GLOBALS:
            if getattr(args, dest) and not getattr(args, f"takes_{dest}", False):
                parser.error(f"{flag} is not an option of `mechanic {args.command}`")
        if getattr(args, "nagios", False) and args.json:
            parser.error("--nagios and --json are two outputs: choose one")
    except SystemExit as exit_:
        # A monitor running a mistyped check must see UNKNOWN, not CRITICAL (2).
        if exit_.code == EXIT_USAGE and "--nagios" in words:
            print(nagios.unknown("usage error (see stderr)"))
            raise SystemExit(nagios.UNKNOWN) from None
        raise
    return args


def main(argv: Sequence[str] | None = None) -> int:
    # A name missed by `shown` prints escaped rather than crashing the command.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            # A stream replaced by a caller may lack reconfigure: AttributeError is suppressed.
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    args = parse(argv)
    # The one place errors are caught: a command raises, and the user sees one line
    # naming the problem and the exit code the command table documents.
    try:
        return args.func(args)
    except MechanicError as exc:
        return _failed(args, exc)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _failed(args: argparse.Namespace, exc: MechanicError) -> int:
    if getattr(args, "nagios", False):  # a monitoring plugin that cannot judge says UNKNOWN
        print(nagios.unknown(readable(str(exc))))
        return nagios.UNKNOWN
    if isinstance(exc, ConfigError):  # ProbeConfigError too
        print(f"mechanic: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, StoreUnusable):  # nothing runs on it until a person repairs it
        config = f" --config {shlex.quote(args.config)}" if args.config else ""
        repair = exc.repair.replace(StoreUnusable.REBUILD, StoreUnusable.REBUILD + config)
        print(f"mechanic: {readable(exc.problem)}\n  to repair it, {repair}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(exc, Busy):  # CycleBusy, DaemonRunning
        print(f"mechanic: {exc}", file=sys.stderr)
        return EXIT_BUSY
    # Refused, ReviewError, ServiceError, StoreError, ...
    print(f"mechanic: {readable(str(exc))}", file=sys.stderr)
    return EXIT_BROKEN
