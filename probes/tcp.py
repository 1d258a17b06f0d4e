"""`tcp`: something accepts connections on `host`:`port`."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import ClassVar

from mechanic.config.schema import Key
from probes.base import PROBES, Metric, Probe, ProbeResult, down, ok


def _port(value: int) -> str | None:
    return None if 1 <= value <= 65535 else f"must be between 1 and 65535, got {value}"


@PROBES.register("tcp")
class TcpProbe(Probe):
    type = "tcp"
    options: ClassVar[dict[str, Key]] = {
        "host": Key((str,), "127.0.0.1"),
        "port": Key((int,), None, _port, required=True),
    }

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        where = f"{self.opts['host']}:{self.opts['port']}"
        try:
            with socket.create_connection(
                (self.opts["host"], self.opts["port"]), timeout=self.timeout
            ):
                pass
        except ConnectionRefusedError:
            return down(f"connection to {where} refused")
        except TimeoutError:
            return down(f"no answer from {where} within {self.timeout:g}s")
        except OSError as exc:
            return down(f"cannot connect to {where}: {exc.strerror or exc}")
        return ok(f"{where} accepts connections")
