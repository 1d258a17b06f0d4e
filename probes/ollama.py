"""`ollama`: the model server answers, and has the model mechanic repairs with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mechanic.config.schema import Key
from mechanic.plural import plural
from probes.base import PROBES, ConfigContext, Metric, Probe, ProbeResult, degraded, down, ok


def _same_model(wanted: str, name: str) -> bool:
    def norm(n: str) -> str:
        return n if ":" in n else n + ":latest"

    return norm(wanted) == norm(name)


@PROBES.register("ollama")
class OllamaProbe(Probe):
    type = "ollama"
    options: ClassVar[dict[str, Key]] = {
        "host": Key((str,), ""),  # default: [llm] host
        "model": Key((str,), ""),  # default: [llm] model
        "generate": Key((bool,), False),  # also ask for one token, thinking off
    }

    @classmethod
    def prepare(cls, values: dict[str, Any], ctx: ConfigContext) -> dict[str, Any]:
        values["host"] = (values["host"] or ctx.llm_host).rstrip("/")
        if not values["host"].startswith(("http://", "https://")):
            values["host"] = "http://" + values["host"]
        values["model"] = values["model"] or ctx.llm_model
        return values

    def check(self, previous: Mapping[str, Metric]) -> ProbeResult:
        import requests  # loaded when a probe runs: a repair cycle need not wait for it

        host, model = self.opts["host"], self.opts["model"]
        try:
            version = requests.get(f"{host}/api/version", timeout=self.timeout).json()["version"]
            tags = requests.get(f"{host}/api/tags", timeout=self.timeout)
            tags.raise_for_status()
            names = [m.get("name") or m.get("model", "") for m in tags.json().get("models", [])]
        except requests.ConnectionError:
            return down(f"no Ollama server at {host}")
        except requests.Timeout:
            return down(f"Ollama at {host} did not answer within {self.timeout:g}s")
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            return down(f"Ollama at {host} answered oddly: {exc}")
        metrics: dict[str, Metric] = {"version": version, "models": len(names)}
        if not any(_same_model(model, n) for n in names):
            return degraded(
                f"Ollama {version} runs but lacks {model} (ollama pull {model})", **metrics
            )
        if self.opts["generate"]:
            try:
                reply = requests.post(
                    f"{host}/api/generate",
                    json={
                        "model": model,
                        "prompt": "Reply with OK.",
                        "stream": False,
                        "think": False,
                        "options": {"num_predict": 1, "temperature": 0},
                    },
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                return down(f"{model} did not generate: {type(exc).__name__}", **metrics)
            if reply.status_code != 200:
                text = reply.text[:200].strip()
                return degraded(
                    f"{model} cannot generate: HTTP {reply.status_code} {text}", **metrics
                )
        return ok(f"Ollama {version} with {model} ({plural(len(names), 'model')})", **metrics)
