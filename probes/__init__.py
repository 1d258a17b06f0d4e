"""Layer 1: pipeline health probes (Ollama, database, disk, PM2, HTTP...).

One module per probe type behind the Probe interface in probes/base.py; REGISTRY
maps the `type` of a [[probe]] table to its class. The runner (probes/runner.py)
runs a cycle's probes concurrently, each bounded by its own timeout. The health
model that turns results into events, alerts and remediation is probes/health.py.
"""

from __future__ import annotations

from probes.base import Probe
from probes.disk import DiskProbe
from probes.freshness import FreshnessProbe
from probes.github import GithubProbe
from probes.http import HttpProbe
from probes.load import LoadProbe
from probes.logerrors import LogErrorsProbe
from probes.memory import MemoryProbe
from probes.ollama import OllamaProbe
from probes.pm2 import Pm2Probe
from probes.postgres import PostgresProbe
from probes.process import ProcessProbe
from probes.queue import QueueProbe
from probes.systemd import SystemdProbe
from probes.tcp import TcpProbe

REGISTRY: dict[str, type[Probe]] = {
    cls.type: cls
    for cls in (
        OllamaProbe,
        PostgresProbe,
        DiskProbe,
        MemoryProbe,
        LoadProbe,
        Pm2Probe,
        ProcessProbe,
        SystemdProbe,
        HttpProbe,
        TcpProbe,
        GithubProbe,
        FreshnessProbe,
        QueueProbe,
        LogErrorsProbe,
    )
}


def create(spec) -> Probe:
    """The probe object for a validated [[probe]] table."""
    return REGISTRY[spec.type](spec)
