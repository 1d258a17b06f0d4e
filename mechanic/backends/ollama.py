"""Ollama through its official client.

Every request sets `think` as a top-level field (inside `options` Ollama ignores
it, and since 0.12.4 leaving it out turns thinking on) and sets `num_ctx`
explicitly (the server default silently cuts long prompts).
"""

from __future__ import annotations

import math
import time

import httpx
import ollama
import pydantic

from mechanic.backends.base import Backend, Completion
from mechanic.config import LLMSettings
from mechanic.errors import (
    BackendError,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    ModelNotFound,
)

# Code runs about 3 to 4 characters per token; 3 errs toward "does not fit".
CHARS_PER_TOKEN = 3.0


class OllamaBackend(Backend):
    name = "ollama"

    def __init__(self, settings: LLMSettings) -> None:
        super().__init__(settings.model)
        self.settings = settings
        self.host = settings.host
        self._client = ollama.Client(host=settings.host, timeout=settings.timeout_seconds)
        self._context = settings.num_ctx

    def _translate(self, exc: BaseException) -> BackendError:
        if isinstance(exc, ollama.ResponseError):
            if exc.status_code == 404:
                return ModelNotFound(
                    f"model {self.model!r} is not on the Ollama server at {self.host}"
                    f" (run: ollama pull {self.model})"
                )
            return BackendResponseError(
                f"Ollama at {self.host} answered {exc.status_code}: {exc.error}", exc.status_code
            )
        if isinstance(exc, httpx.TimeoutException):
            return BackendTimeout(
                f"Ollama at {self.host} did not answer within"
                f" {self.settings.timeout_seconds:g} s (llm.timeout_seconds)"
            )
        if isinstance(exc, (ConnectionError, httpx.TransportError)):
            return BackendUnavailable(
                f"cannot reach Ollama at {self.host} (is `ollama serve` running? llm.host)"
            )
        return BackendResponseError(f"Ollama at {self.host} failed: {exc}")

    def prepare(self) -> None:
        try:
            shown = self._client.show(self.model)
        except (ollama.ResponseError, httpx.HTTPError, ConnectionError) as exc:
            raise self._translate(exc) from exc
        except (ValueError, pydantic.ValidationError):
            return  # an older server's reply without model_info: keep llm.num_ctx
        info = shown.modelinfo or {}
        trained = [v for k, v in info.items() if k.endswith(".context_length") and int(v) > 0]
        if trained:
            self._context = min(self.settings.num_ctx, int(trained[0]))

    def context_tokens(self) -> int:
        return self._context

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text) / CHARS_PER_TOKEN)

    def complete(self, *, system: str, prompt: str, max_tokens: int) -> Completion:
        started = time.monotonic()
        try:
            reply = self._client.generate(
                model=self.model,
                prompt=prompt,
                system=system,
                stream=False,
                think=self.settings.think,
                options={
                    "temperature": self.settings.temperature,
                    "num_ctx": self._context,
                    "num_predict": max_tokens,
                },
            )
        except (ollama.ResponseError, httpx.HTTPError, ConnectionError) as exc:
            raise self._translate(exc) from exc
        except (ValueError, pydantic.ValidationError) as exc:  # not Ollama's JSON
            raise BackendResponseError(
                f"Ollama at {self.host} sent an answer that is not Ollama's JSON: {exc}"
            ) from exc
        return Completion(
            text=reply.response or "",
            done_reason=reply.done_reason,
            prompt_tokens=reply.prompt_eval_count,
            answer_tokens=reply.eval_count,
            duration_s=time.monotonic() - started,
        )

    def close(self) -> None:
        self._client.close()
