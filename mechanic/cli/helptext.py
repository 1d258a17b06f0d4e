"""What `mechanic COMMAND --help` says: each command's description and exit codes.

Kept apart from the parser so the words a user reads sit together, one entry per
command, beside the exit codes README.md's command table documents (keep both alike).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Help:
    summary: str  # one line, in `mechanic --help`
    description: str  # a paragraph, in `mechanic COMMAND --help`
    exits: tuple[tuple[str, str], ...]  # (code, meaning) for this command
    lacks: tuple[str, ...] = ()  # codes of COMMON_EXITS this command never exits with


# Every command can end with these (main maps every error to one of them).
COMMON_EXITS = (
    ("1", "another error it reports (mechanic: ...)"),
    ("2", "a config or usage error, or an unusable store"),
    ("130", "Ctrl-C"),
)

COMMANDS: dict[str, Help] = {
    "once": Help(
        "run one cycle now",
        "One cycle now: run the probes, check every watched file, repair what the"
        " limits allow, then run each root's on_fix and the probes' on_down.",
        (
            ("0", "nothing left broken"),
            ("1", "broken files remain"),
            ("3", "another cycle is running on this state folder (nothing was judged)"),
        ),
    ),
    "check": Help(
        "list broken files, repair nothing",
        "List broken files (path:line:column, language, message): those that fail"
        " their checker and those that crashed ([[errorlog]]). Nothing is repaired.",
        (
            ("0", "nothing broken"),
            ("1", "broken files found"),
            ("3", "another cycle is running"),
        ),
    ),
    "status": Help(
        "totals, last cycle, cooldowns",
        "Totals, the last cycle, recent attempts, cost per rung, files that need a"
        " person, files in cooldown, and each probe's health.",
        (("0", "shown"),),
    ),
    "probe": Help(
        "run Layer 1's probes now",
        "Run the probes now (all, or those named) and print each result. It only"
        " looks: no alert, no remediation, no change of health. --nagios follows"
        " the monitoring-plugin convention: one status line with perfdata.",
        (
            ("0", "all ok (--nagios: OK)"),
            ("1", "a probe is not ok (--nagios: WARNING, the worst is degraded)"),
            ("2", "an unknown name (--nagios: CRITICAL, a probe is down)"),
            (
                "3",
                "--nagios: UNKNOWN (a probe could not judge, an unknown name, no probe,"
                " a config or usage error)",
            ),
        ),
    ),
    "log": Help(
        "print the mechanic log readably",
        "Print the last lines of the mechanic log (state_dir/mechanic.log) readably;"
        " -f follows it across rotations.",
        (("0", "printed; with -f, also when stopped by Ctrl-C"),),
    ),
    "protect": Help(
        "edit the protected list",
        "Add, remove or list the patterns in config.toml's `protected`, keeping the"
        " file's comments and layout. A protected file is never written.",
        (("0", "done"),),
    ),
    "revert": Help(
        "undo an applied fix",
        "Put back the original bytes of an applied fix. Refused unless the file holds"
        " exactly what that attempt wrote and the backup is the original. That content"
        " is not attempted again by itself (see `mechanic retry`).",
        (("0", "done"), ("1", "refused (unknown attempt, file changed since, ...)")),
    ),
    "store": Help(
        "check (or rebuild) the state store",
        "Check the state store: SQLite's integrity check, schema version, store id,"
        " attempts and the first ID it hands out. --rebuild, only on an unusable"
        " store, keeps the old file aside and starts a new one.",
        (
            ("0", "usable (or rebuilt)"),
            ("2", "unusable"),
            ("3", "--rebuild while another cycle is running"),
        ),
    ),
    "run": Help(
        "the daemon, in the foreground: cycles, file watching",
        "The daemon, in the foreground: a cycle at start and every interval_minutes,"
        " and a targeted check of each file that changes.",
        (
            ("0", "stopped by SIGTERM or SIGINT"),
            ("3", "another daemon is running on this state folder"),
        ),
        lacks=("130",),  # Ctrl-C is SIGINT, which the daemon handles: it stops, exits 0
    ),
    "service": Help(
        "install, remove or inspect mechanic as a user service",
        "mechanic as a systemd user service (Linux) or a launchd LaunchAgent (macOS)."
        " Every command it runs is printed.",
        (
            ("0", "install, uninstall: done; status: the service is loaded"),
            ("1", "install, uninstall: the platform's tool failed; status: not loaded"),
        ),
    ),
    "doctor": Help(
        "check everything mechanic needs; say how to fix it",
        "Check the config, model backend and model, node, state folder and backups,"
        " the state store, watch roots, error logs, test commands, service and watch"
        " limits; each problem comes with the command that fixes it.",
        (("0", "no problem"), ("1", "a problem (each with its fix)")),
    ),
    "pending": Help(
        "review mode: fixes waiting for you, with diffs",
        "Review mode: the validated fixes waiting for you, each with its ID and diff"
        " (apply one with `mechanic accept ID`, drop it with `mechanic reject ID`).",
        (("0", "shown"),),
    ),
    "accept": Help(
        "apply a pending fix",
        "Apply pending fix ID through the transaction (refused if the file changed"
        " since); with git_commit, commit it.",
        (("0", "done"), ("1", "refused"), ("3", "another cycle is running")),
    ),
    "reject": Help(
        "drop a pending fix",
        "Drop pending fix ID; the file stays as it is, and that content is not"
        " attempted again by itself (see `mechanic retry`). Refused when the file no"
        " longer holds the version the fix was made from, unless --stale.",
        (("0", "done"), ("1", "refused")),
    ),
    "retry": Help(
        "attempt a file again after a revert or reject",
        "Attempt FILE again in the next cycle after a revert or reject held it; also"
        " lifts its cooldown and a 'needs a person' mark.",
        (("0", "done (or nothing held the file)"), ("1", "the file is outside every watch root")),
    ),
    "restore": Help(
        "bring back a file's last good version",
        "Bring back the file's last good version (the last one that passed its check,"
        " else git HEAD) through the transaction: the current bytes are backed up"
        " first, and `mechanic revert` undoes it.",
        (("0", "done"), ("1", "refused"), ("3", "another cycle is running")),
    ),
}


def epilog(help_: Help) -> str:
    """The exit codes, one a line: the command's own, then those every command has."""
    rows = dict(help_.exits)
    for code, why in COMMON_EXITS:
        if code in help_.lacks:
            continue
        rows[code] = f"{rows[code]}; or {why}" if code in rows else why
    ordered = sorted(rows.items(), key=lambda row: int(row[0]))
    lines = [
        textwrap.fill(why, width=78, initial_indent=f"  {code:<4} ", subsequent_indent=" " * 7)
        for code, why in ordered
    ]
    return "exit codes:\n" + "\n".join(lines)


def description(help_: Help) -> str:
    return textwrap.fill(help_.description, width=78)
