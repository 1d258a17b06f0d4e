"""`mechanic probe --nagios`: the monitoring-plugin convention (Nagios, Icinga, Sensu,
Zabbix's agent): an exit code a monitor acts on, and one status line with perfdata."""

from __future__ import annotations

from collections.abc import Sequence

from probes.base import ProbeResult

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
_STATE = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
# degraded still works (WARNING); down does not (CRITICAL); error means the probe
# could not judge, and a monitor must not read that as either (UNKNOWN).
_CODE = {"ok": OK, "degraded": WARNING, "down": CRITICAL, "error": UNKNOWN}
_PREFIX = "MECHANIC PROBES"


def code(results: Sequence[ProbeResult]) -> int:
    """The worst result decides; CRITICAL outranks UNKNOWN, as check_multi does:
    a probe known to be down matters more than one that could not judge."""
    codes = {_CODE[r.status] for r in results}
    for worst in (CRITICAL, UNKNOWN, WARNING):
        if worst in codes:
            return worst
    return OK


def status_line(results: Sequence[ProbeResult]) -> str:
    """`MECHANIC PROBES CRITICAL - web down: refused; 1 of 2 ok | web=3ms db=12ms`."""
    if not results:
        return unknown("no [[probe]] in the config")
    bad = [r for r in results if r.status != "ok"]
    ok = len(results) - len(bad)
    if bad:
        worst_first = sorted(bad, key=lambda r: -_rank(r.status))
        text = "; ".join(f"{r.name} {r.status}: {_one_line(r.message)}" for r in worst_first)
        text += f"; {ok} of {len(results)} ok"
    else:
        text = f"{ok} {'probe' if ok == 1 else 'probes'} ok"
    perfdata = " ".join(f"{_label(r.name)}={r.latency_ms:.0f}ms" for r in results)
    return f"{_PREFIX} {_STATE[code(results)]} - {text} | {perfdata}"


def unknown(why: str) -> str:
    return f"{_PREFIX} UNKNOWN - {_one_line(why)}"


def _rank(status: str) -> int:
    return {"down": 3, "error": 2, "degraded": 1}.get(status, 0)


def _one_line(text: str) -> str:
    # A plugin's output is one line, and `|` starts the perfdata.
    return " ".join(text.split()).replace("|", "/")


def _label(name: str) -> str:
    # Perfdata labels with spaces, `=` or quotes are single-quoted, a quote doubled.
    if any(c in name for c in " ='|"):
        return "'" + name.replace("'", "''") + "'"
    return name
