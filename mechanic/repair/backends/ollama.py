"""Ollama through its official client.

Every request sets `think` as a top-level field (inside `options` Ollama ignores
it, and since 0.12.4 leaving it out turns thinking on) and sets `num_ctx`
explicitly (the server default silently cuts long prompts).

Every request runs under a `RequestWatch` (mechanic/repair/backends/deadline.py): the
whole request, not each read, ends by `llm.timeout_seconds`, and a failure says
how far the request got: never connected, or sent and then timed out, dropped,
refused with an HTTP error, or answered with something that is not Ollama's JSON.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

import httpx
import ollama
import pydantic

from mechanic.config.settings import LLMSettings
from mechanic.errors import (
    BackendError,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    ModelNotFound,
)
from mechanic.repair.backends.base import Backend, Completion
from mechanic.repair.backends.deadline import ANSWERED, ANSWERING, LIMITS, SENDING, RequestWatch

# Code runs about 3 to 4 characters per token; 3 errs toward "does not fit".
CHARS_PER_TOKEN = 3.0
# What a request can fail with, as the client raises it (see facts.md): ResponseError
# for an error status, the builtin ConnectionError for a refused connection, raw httpx
# errors otherwise; ValueError and pydantic's for a body that is not Ollama's JSON.
FAILURES = (ollama.ResponseError, httpx.HTTPError, ConnectionError, ValueError)

T = TypeVar("T")


class OllamaBackend(Backend):
    name = "ollama"

    def __init__(self, settings: LLMSettings) -> None:
        super().__init__(settings.model)
        self.settings = settings
        self.host = settings.host
        # The per-operation timeout stays as a second bound; the watch bounds the whole.
        self._client = ollama.Client(
            host=settings.host,
            timeout=settings.timeout_seconds,
            limits=LIMITS,
            event_hooks={"request": [self._attach_watch]},
        )
        self._context = settings.num_ctx
        self._watch: RequestWatch | None = None  # the request under way, if any

    def _attach_watch(self, request: httpx.Request) -> None:
        if self._watch is not None:
            request.extensions["trace"] = self._watch.trace

    def _request(self, call: Callable[[], T], *, what: str, asks_model: bool) -> T:
        """`call()` under a fresh deadline of llm.timeout_seconds; a failure raised
        as the BackendError that says how far the request for `what` got.
        `asks_model`: the request carries a prompt (its failures are attempts)."""
        watch = RequestWatch(self.settings.timeout_seconds)
        self._watch = watch
        try:
            with watch:
                return call()
        except FAILURES as exc:
            raise self._failure(exc, watch, what=what, asks_model=asks_model) from exc
        finally:
            self._watch = None

    def _failure(
        self, exc: BaseException, watch: RequestWatch, *, what: str, asks_model: bool
    ) -> BackendError:
        """What happened to a request (`what` names it), as the error the cycle records."""
        timeout = f"llm.timeout_seconds = {self.settings.timeout_seconds:g}"
        at = f"Ollama at {self.host}"
        sent = watch.prompt_sent and asks_model
        if isinstance(exc, ollama.ResponseError) and exc.status_code == 404:
            return ModelNotFound(
                f"model {self.model!r} is not on the Ollama server at {self.host}"
                f" (run: ollama pull {self.model})"
            )
        if watch.expired or isinstance(exc, httpx.TimeoutException):
            took = f"timed out after {watch.elapsed:.1f} s ({timeout})"
            if not watch.prompt_sent:
                return BackendTimeout(f"{took} connecting to {at}: the model was not asked")
            stage = {
                SENDING: f"{what} was still being sent to {at}",
                ANSWERING: f"{what} was sent to {at}; its answer had begun"
                f" (HTTP {watch.status}) but not finished",
                ANSWERED: f"{what} was sent to {at}; its answer had arrived whole",
            }.get(watch.stage, f"{what} was sent to {at}; no answer (not even its headers) came")
            return BackendTimeout(f"{took}: {stage}", prompt_sent=sent)
        if isinstance(exc, ConnectionError | httpx.ConnectError) or not watch.prompt_sent:
            # ollama turns httpx.ConnectError into a bare ConnectionError; the cause stays.
            cause = exc.__context__ if isinstance(exc.__context__, httpx.HTTPError) else exc
            return BackendUnavailable(
                f"cannot reach {at}: {cause} (is `ollama serve` running? llm.host);"
                " the model was not asked"
            )
        if isinstance(exc, ollama.ResponseError):
            return BackendResponseError(
                f"{what} was sent, then {at} answered HTTP {exc.status_code}: {exc.error}",
                exc.status_code,
                prompt_sent=sent,
            )
        if isinstance(exc, httpx.TransportError):
            stage = {
                SENDING: f"while {what} was being sent",
                ANSWERING: f"mid-answer (HTTP {watch.status}, part of the body received)",
            }.get(watch.stage, "before any answer")
            return BackendResponseError(
                f"{what} was sent, then {at} dropped the connection {stage}: {exc}",
                prompt_sent=sent,
            )
        if isinstance(exc, ValueError):  # json's and pydantic's: not Ollama's JSON
            detail = " ".join(str(exc).split())[:200]
            return BackendResponseError(
                f"{what} was sent, then {at} answered with invalid JSON: {detail}",
                prompt_sent=sent,
            )
        return BackendResponseError(f"{what} was sent, then {at} failed: {exc}", prompt_sent=sent)

    def prepare(self) -> None:
        try:
            shown = self._request(
                lambda: self._client.show(self.model),
                what="a model lookup (/api/show)",
                asks_model=False,
            )
        except BackendResponseError as exc:
            if isinstance(exc.__cause__, pydantic.ValidationError):
                return  # an older server's reply without model_info: keep llm.num_ctx
            raise
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
        reply = self._request(
            lambda: self._client.generate(
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
            ),
            what="the prompt",
            asks_model=True,
        )
        return Completion(
            text=reply.response or "",
            done_reason=reply.done_reason,
            prompt_tokens=reply.prompt_eval_count,
            answer_tokens=reply.eval_count,
            duration_s=time.monotonic() - started,
        )

    def close(self) -> None:
        self._client.close()
