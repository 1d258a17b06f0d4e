"""`status`: totals, the last cycle, recent attempts, cooldowns, probes."""

from __future__ import annotations

import argparse
import time
from datetime import datetime

from mechanic import __version__, report
from mechanic.cli.common import (
    EXIT_OK,
    config_of,
    rel,
)
from mechanic.config.settings import Config
from mechanic.files.names import readable
from mechanic.plural import plural


def _probe_rows(config: Config, store) -> list[dict]:
    """Each configured probe's health for `status`, in config order."""
    states = store.probe_states()
    return [report.probe_health(s.name, s.type, states.get(s.name)) for s in config.probes]


def cmd_status(args: argparse.Namespace) -> int:
    from mechanic.store import Store

    config = config_of(args)
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
            totals_row=totals.to_dict(),
            last=last.to_dict() if last else None,
            recent=recent,
            cooldowns=cooling,
            daemon=daemon,
            pending=waiting,
            runtime=runtime,
            rungs=[rung.to_dict() for rung in rungs],
            given_up={path: item.to_dict() for path, item in given_up.items()},
            probes=probe_rows,
            store_id=store_id,
            fix_actions=[action.to_dict() for action in fix_actions],
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
        f"cycles {totals.cycles}  attempts {totals.attempts}  applied {totals.applied}"
        f"  reverted {totals.reverted}  rejected {totals.rejected}"
        f"  skipped {totals.skipped}  tokens {totals.prompt_tokens}+{totals.answer_tokens}"
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
        console.print(f"{plural(waiting, 'fix', 'fixes')} waiting for review: mechanic pending")
    if last:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last.started_at))
        console.print(
            f"last cycle #{last.id} at {when}: {plural(last.files_seen or 0, 'file')},"
            f" {last.findings} broken, {last.applied} fixed, {last.remaining} remaining"
            + (f"  [red]{last.error}[/red]" if last.error else "")
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
                cell(rel(attempt.path, config)),
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
            where = rel(error.path, config) + (f":{error.line}" if error.line else "")
            latest = time.strftime("%m-%d %H:%M", time.localtime(error.last_seen))
            table.add_row(cell(where), cell(error.message), str(error.count), latest)
        console.print(table)
    if rungs:
        table = Table(title="by rung (fix rate and cost)")
        for column in ("rung", "attempts", "fixed", "fix rate", "tokens", "seconds"):
            table.add_column(column)
        for rung in rungs:
            table.add_row(
                rung.rung,
                str(rung.attempts),
                str(rung.applied),
                f"{rung.fix_rate:.0%}",
                f"{rung.prompt_tokens}+{rung.answer_tokens}",
                f"{rung.seconds:.1f}",
            )
        console.print(table)
    if given_up:
        table = Table(title="needs a person (left alone until the file changes)")
        for column in ("file", "why", "reason"):
            table.add_column(column)
        for path, item in given_up.items():
            table.add_row(cell(rel(path, config)), item.kind, cell(item.reason))
        console.print(table)
    if cooling:
        table = Table(title="in cooldown")
        table.add_column("file")
        table.add_column("until")
        for path, until in sorted(cooling.items()):
            table.add_row(
                cell(rel(path, config)), time.strftime("%Y-%m-%d %H:%M", time.localtime(until))
            )
        console.print(table)
    if fix_actions:
        table = Table(title="on_fix actions (after an applied fix)")
        for column in ("when", "root", "result", "files"):
            table.add_column(column)
        for action in fix_actions:
            table.add_row(
                time.strftime("%m-%d %H:%M", time.localtime(action.at)),
                cell(action.root),
                cell(action.detail),
                cell(", ".join(rel(f, config) for f in action.files)),
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
