"""`http`: a URL answers with `expect_status`, optionally containing a text, fast enough."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

from mechanic.config.schema import Key
from mechanic.errors import ProbeConfigError
from probes.base import (
    PROBES,
    ConfigContext,
    Metric,
    Probe,
    ProbeResult,
    degraded,
    down,
    elapsed_ms,
    ok,
)


@PROBES.register("http")
class HttpProbe(Probe):
    type = "http"
    options: ClassVar[dict[str, Key]] = {
        "url": Key((str,), None, required=True),
        "expect_status": Key((int, list), 200),  # one status or a list of them
        "contains": Key((str,), ""),
        "max_latency_ms": Key((int, float), None),
        "verify_tls": Key((bool,), True),
    }

    @classmethod
    def prepare(cls, values: dict[str, Any], ctx: ConfigContext) -> dict[str, Any]:
        if not values["url"].startswith(("http://", "https://")):
            raise ProbeConfigError(
                "url", f"must start with http:// or https://, got {values['url']!r}"
            )
        expected = values["expect_status"]
        expected = expected if isinstance(expected, list) else [expected]
        if not expected or any(not isinstance(s, int) or not 100 <= s <= 599 for s in expected):
            raise ProbeConfigError(
                "expect_status", "must be an HTTP status (100-599) or a list of them"
            )
        values["expect_status"] = expected
        return values

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        import requests  # loaded when a probe runs: a repair cycle need not wait for it

        url = self.opts["url"]
        started = time.monotonic()
        try:
            reply = requests.get(url, timeout=self.timeout, verify=self.opts["verify_tls"])
        except requests.ConnectionError as exc:
            reason = "refused" if "refused" in str(exc).lower() else "failed"
            return down(f"connection to {url} {reason}")
        except requests.Timeout:
            return down(f"{url} did not answer within {self.timeout:g}s")
        except requests.RequestException as exc:
            return down(f"{url}: {type(exc).__name__}")
        latency = elapsed_ms(started)
        metrics: dict[str, Metric] = {"status_code": reply.status_code, "ms": round(latency, 1)}
        if reply.status_code not in self.opts["expect_status"]:
            want = "/".join(str(s) for s in self.opts["expect_status"])
            return down(f"{url} answered {reply.status_code}, expected {want}", **metrics)
        if self.opts["contains"] and self.opts["contains"] not in reply.text:
            return down(
                f"{url} answered {reply.status_code} without {self.opts['contains']!r}", **metrics
            )
        limit = self.opts["max_latency_ms"]
        if limit is not None and latency > limit:
            return degraded(f"{url} answered in {latency:.0f} ms (max {limit} ms)", **metrics)
        return ok(f"{url} answered {reply.status_code} in {latency:.0f} ms", **metrics)
