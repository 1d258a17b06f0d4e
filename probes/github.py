"""`github`: the API answers and enough of the rate limit is left (`GET /rate_limit`,
which does not count against it). The token comes from the environment variable
named by `token_env`, never from the config file."""

from __future__ import annotations

import os
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
    error,
    ok,
)

PUBLIC_API = "https://api.github.com"


@PROBES.register("github")
class GithubProbe(Probe):
    type = "github"
    options: ClassVar[dict[str, Key]] = {
        "api_url": Key((str,), PUBLIC_API),  # GitHub Enterprise: https://HOST/api/v3
        "token_env": Key((str,), ""),  # the NAME of the variable holding the token
        "min_remaining": Key((int,), 100),
    }

    @classmethod
    def prepare(cls, values: dict[str, Any], ctx: ConfigContext) -> dict[str, Any]:
        if not values["api_url"].startswith(("http://", "https://")):
            raise ProbeConfigError(
                "api_url", f"must start with http:// or https://, got {values['api_url']!r}"
            )
        values["api_url"] = values["api_url"].rstrip("/")
        name = values["token_env"]
        if name and not name.replace("_", "").isalnum():
            # Someone pasted the token itself: say so without repeating it.
            raise ProbeConfigError(
                "token_env",
                "must name an environment variable (e.g. GITHUB_TOKEN), not hold a token",
            )
        return values

    def _token(self) -> str:
        return os.environ.get(self.opts["token_env"], "") if self.opts["token_env"] else ""

    def secrets(self) -> list[str]:
        token = self._token()
        return [token] if token else []

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        import requests  # loaded when a probe runs: a repair cycle need not wait for it

        name = self.opts["token_env"]
        token = self._token()
        if name and not token:
            return error(f"environment variable {name} (token_env) is not set")
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = f"{self.opts['api_url']}/rate_limit"
        try:
            reply = requests.get(url, headers=headers, timeout=self.timeout)
        except requests.ConnectionError:
            return down(f"cannot reach {url}")
        except requests.Timeout:
            return down(f"{url} did not answer within {self.timeout:g}s")
        except requests.RequestException as exc:
            return down(f"{url}: {type(exc).__name__}")
        if reply.status_code == 401:
            return down(f"GitHub refused the token in {name or 'the request'} (401)")
        if reply.status_code != 200:
            return down(f"{url} answered {reply.status_code}")
        try:
            core = reply.json()["resources"]["core"]
            remaining, limit, reset = int(core["remaining"]), int(core["limit"]), int(core["reset"])
        except (ValueError, KeyError, TypeError):
            return down(f"{url} answered without resources.core (not GitHub's /rate_limit)")
        metrics: dict[str, Metric] = {"remaining": remaining, "limit": limit, "reset": reset}
        summary = f"{remaining}/{limit} requests left"
        if remaining < self.opts["min_remaining"]:
            at = time.strftime("%H:%M", time.localtime(reset))
            return degraded(
                f"{summary} (min {self.opts['min_remaining']}), resets at {at}", **metrics
            )
        return ok(summary + ("" if token else " (no token)"), **metrics)
