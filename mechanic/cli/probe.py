"""`probe`: run Layer 1's probes now, or re-arm a given-up one."""

from __future__ import annotations

import argparse
import sys

from mechanic import report
from mechanic.cli import nagios
from mechanic.cli.common import (
    EXIT_BROKEN,
    EXIT_OK,
    config_of,
    setup_logging,
)


def cmd_probe(args: argparse.Namespace) -> int:
    from mechanic.store import Store
    from probes import health

    config = config_of(args)
    setup_logging(config, quiet=True)
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
            if args.nagios:  # nothing to judge is not OK to a monitor
                print(nagios.unknown("no [[probe]] in the config"))
                return nagios.UNKNOWN
            print("no [[probe]] in the config", file=sys.stderr)
            return EXIT_OK
        results = health.look(config, store, args.names)
    if args.nagios:
        print(nagios.status_line(results))
        return nagios.code(results)
    if args.json:
        print(report.dumps([report.probe_result(r) for r in results]))
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            print(f"{r.status:<9} {r.name:<{width}} {r.latency_ms:7.0f} ms  {r.message}")
    return EXIT_OK if all(r.status == "ok" for r in results) else EXIT_BROKEN
