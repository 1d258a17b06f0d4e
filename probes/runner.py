"""Run a cycle's probes concurrently, each bounded by its own timeout.

Each probe runs in its own daemon thread. The caller waits for each at most its
timeout (plus a little slack for the probe's own clean-up), so one hanging
endpoint costs that probe's timeout and nothing more; a thread still stuck after
that is abandoned (a daemon thread never holds up the process's exit). A probe
that raises yields `error` for itself alone. Every result leaves here scrubbed of
the probe's secrets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

from probes import create
from probes.base import Metric, Probe, ProbeResult, error

SLACK_SECONDS = 0.5  # lets a probe that honours its timeout report it itself


class _Run(threading.Thread):
    def __init__(self, probe: Probe, previous: Mapping[str, Metric]) -> None:
        super().__init__(name=f"probe:{probe.name}", daemon=True)
        self.probe = probe
        self.previous = previous
        self.result: ProbeResult | None = None
        self.started = 0.0
        self.finished = 0.0

    def run(self) -> None:
        self.started = time.monotonic()
        try:
            self.result = self.probe.check(self.previous)
        except Exception as exc:  # a probe's bug is that probe's error, nobody else's
            self.result = error(f"probe crashed: {type(exc).__name__}: {exc}")
        self.finished = time.monotonic()


def run_probes(
    specs: Sequence, previous: Mapping[str, Mapping[str, Metric]] | None = None
) -> list[ProbeResult]:
    """Results in the order of `specs`; `previous` maps probe name -> last metrics."""
    previous = previous or {}
    runs: list[_Run] = []
    for spec in specs:
        probe = create(spec)
        run = _Run(probe, previous.get(spec.name, {}))
        run.start()
        runs.append(run)
    began = time.monotonic()
    results = []
    for run in runs:
        deadline = began + run.probe.timeout + SLACK_SECONDS
        run.join(max(0.0, deadline - time.monotonic()))
        results.append(_finish(run))
    return results


def _finish(run: _Run) -> ProbeResult:
    probe = run.probe
    try:
        secrets = probe.secrets()
    except Exception:  # e.g. an unparsable DSN: the generic scrubbing still applies
        secrets = []
    if run.result is None:
        result = ProbeResult(
            "down",
            f"no answer within {probe.timeout:g}s (timeout_seconds)",
            latency_ms=probe.timeout * 1000,
        )
    else:
        result = replace(run.result, latency_ms=(run.finished - run.started) * 1000)
    return replace(result.scrubbed(secrets), name=probe.name, type=probe.type)
