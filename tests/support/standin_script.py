"""What a test scripts and what the stand-in records: a request as a responder sees it, a
scripted reply (including the hostile ways to deliver it), and a recorded request."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.support.standin_models import HOSTILE_MODES, DoneReason, Endpoint, Hostile


@dataclass(frozen=True)
class InferenceRequest:
    """A ``/api/generate`` or ``/api/chat`` request, as a responder sees it.

    ``prompt`` is the generate prompt, or for chat every message's content joined by newlines
    (system messages included). ``system`` is the generate ``system`` field, or for chat the
    system messages' contents (``None`` if there are none). ``think`` is the top-level field as
    sent (``None`` when absent); ``thinking`` says whether the model will think.
    """

    endpoint: Endpoint
    model: str
    prompt: str
    system: str | None
    messages: tuple[Mapping[str, Any], ...]
    options: Mapping[str, Any]
    think: bool | str | None
    thinking: bool
    stream: bool
    format: Any
    keep_alive: Any
    body: Mapping[str, Any]
    index: int
    num_ctx: int
    prompt_tokens: int
    prompt_truncated: bool


@dataclass(frozen=True)
class Reply:
    """What the stand-in model answers to one inference request.

    Attributes:
        text: The answer (``response`` for generate, ``message.content`` for chat).
        done_reason: ``"stop"`` or ``"length"`` (the answer was cut).
        thinking: Thinking text. Only a thinking-capable model with thinking on shows it; if
            it is ``None`` there, ``text`` itself goes to ``thinking`` and the answer is empty.
        delay_seconds: Wait before answering (use with a client timeout). The wait ends early,
            dropping the connection, when the stand-in stops.
        chunk_delay_seconds: Wait between streamed chunks.
        chunk_chars: Characters per streamed chunk.
        status: Answer with this HTTP error status (``error`` defaults to a generic message).
        error: Answer with this error message (status defaults to 500).
        error_mid_stream: Fail after about half of the chunks: an ``{"error": ...}`` line ends
            the 200 stream (a plain 500 if no chunk was written yet, or if the request did not
            stream).
        prompt_eval_count: Reported prompt tokens (default: estimated, capped at ``num_ctx``).
        eval_count: Reported answer tokens (default: estimated from the answer).
        on_request: Called with the request after it arrived and before the answer is sent
            (before ``delay_seconds``): act "while the model is answering".
        hostile: Deliver the answer badly (one of :data:`HOSTILE_MODES`; see the module docs).
        hostile_interval_seconds: The pause between bytes of a trickle or of slow headers.
    """

    text: str = ""
    done_reason: DoneReason = "stop"
    thinking: str | None = None
    delay_seconds: float = 0.0
    chunk_delay_seconds: float = 0.0
    chunk_chars: int = 8
    status: int | None = None
    error: str | None = None
    error_mid_stream: str | None = None
    prompt_eval_count: int | None = None
    eval_count: int | None = None
    on_request: Callable[[InferenceRequest], None] | None = None
    hostile: Hostile | None = None
    hostile_interval_seconds: float = 1.5

    def __post_init__(self) -> None:
        if self.hostile is not None and self.hostile not in HOSTILE_MODES:
            raise ValueError(f"hostile must be one of {HOSTILE_MODES}, not {self.hostile!r}")
        if self.hostile_interval_seconds <= 0:
            raise ValueError("hostile_interval_seconds must be positive")
        if self.done_reason not in ("stop", "length"):
            raise ValueError(f"done_reason must be 'stop' or 'length', not {self.done_reason!r}")
        if self.delay_seconds < 0 or self.chunk_delay_seconds < 0:
            raise ValueError("delays must not be negative")
        if self.chunk_chars < 1:
            raise ValueError("chunk_chars must be at least 1")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP error status (400-599), not {self.status}")

    @property
    def is_error(self) -> bool:
        return self.status is not None or self.error is not None


Responder = Callable[[InferenceRequest], "Reply | str"]
"""A function from request to reply; returning a ``str`` means ``Reply(text=that)``."""


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the stand-in received (whatever its path or outcome)."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    raw_body: bytes
    body: Any
    time: float

    @property
    def endpoint(self) -> str:
        """The path without the ``/api/`` prefix (``"generate"``, ``"chat"``, ``"tags"``...)."""
        return self.path.removeprefix("/api/")

    @property
    def json(self) -> dict[str, Any]:
        """The body if it was a JSON object, else an empty dict."""
        return self.body if isinstance(self.body, dict) else {}

    @property
    def model(self) -> str | None:
        return self.json.get("model")

    @property
    def think(self) -> Any:
        """Top-level ``think`` as sent (``None`` when absent); see also ``"think" in body``."""
        return self.json.get("think")

    @property
    def stream(self) -> Any:
        return self.json.get("stream")

    @property
    def options(self) -> dict[str, Any]:
        options = self.json.get("options")
        return options if isinstance(options, dict) else {}

    @property
    def prompt_text(self) -> str:
        """Every piece of text sent to the model: prompt, suffix, system, message contents."""
        body = self.json
        parts = [body.get(key) for key in ("system", "prompt", "suffix")]
        messages = body.get("messages")
        if isinstance(messages, list):
            parts.extend(m.get("content") for m in messages if isinstance(m, dict))
        return "\n".join(p for p in parts if isinstance(p, str))


class StandInError(AssertionError):
    """The stand-in met a problem on the test's side (a responder raised, replies ran out...)."""


class _Abort(Exception):
    """Drop the connection without answering (the stand-in is stopping)."""


class _HTTPError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
