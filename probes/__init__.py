"""Layer 1: pipeline health probes (Ollama, database, disk, PM2, HTTP...).

One module per probe type behind the Probe interface in probes/base.py; each
registers its class in REGISTRY (mechanic/registry.py) under the `type` of a
[[probe]] table, and importing this package imports them all. The runner
(probes/runner.py) runs a cycle's probes concurrently, each bounded by its own
timeout. The health model that turns results into events, alerts and
remediation is probes/health.py.
"""

from __future__ import annotations

# Imported for their @PROBES.register(...): each module adds its probe type.
from probes import (  # noqa: F401
    disk,
    freshness,
    github,
    http,
    load,
    logerrors,
    memory,
    ollama,
    pm2,
    postgres,
    process,
    queue,
    systemd,
    tcp,
)
from probes.base import PROBES, Probe

REGISTRY = PROBES


def create(spec) -> Probe:
    """The probe object for a validated [[probe]] table."""
    return REGISTRY.get(spec.type)(spec)
