"""A loopback stand-in for an Ollama server, for tests.

No Ollama server can run where these tests run, so this module serves Ollama's HTTP API on
``127.0.0.1`` (a free port chosen by the OS) from a background thread, using only the standard
library. It mirrors the real server (``ollama/ollama`` ``server/routes.go``, 0.12.x and later)
where a client can see the difference:

* ``GET``/``HEAD /`` answers ``Ollama is running``; ``GET /api/version``, ``GET /api/tags``,
  ``POST /api/show``, ``GET /api/ps``, ``POST /api/generate`` and ``POST /api/chat``.
* ``stream`` defaults to **true** when absent: the answer is ``application/x-ndjson`` chunks with
  ``done: false`` and a final chunk with ``done: true``, ``done_reason`` and the stats
  (durations in nanoseconds). ``stream: false`` gives one JSON object.
* Errors are ``{"error": "..."}`` with the real status codes and messages: a missing model is
  404 ``model 'NAME' not found``; ``think: true`` on a model without the ``thinking`` capability
  is 400 ``"NAME" does not support thinking``; ``/api/chat`` and ``/api/show`` without a model
  are 400 ``model is required`` (``/api/generate`` without one is 404 ``model '' not found``, as
  the real server answers); a bad body is 400; an unknown path is 404 ``404 page not found``
  (plain text); a wrong method is 405 ``405 method not allowed`` (plain text). An error during
  generation arrives as an ``{"error": ...}`` line inside a 200 stream (or as a 500 when not
  streaming), as the real server does.
* A thinking-capable model thinks unless the request says ``think: false`` at the top level
  (since Ollama 0.12.4 a missing ``think`` means *on*). Its scripted answer then lands in
  ``thinking`` and ``response`` is empty unless the :class:`Reply` gives both.
* ``options.num_ctx`` defaults to the model's ``default_num_ctx`` (4096): a longer prompt is
  silently cut, which shows as ``prompt_eval_count`` capped at the context size.
  ``options.num_predict`` cuts the answer and reports ``done_reason: "length"``.

Hostile servers (``Reply(hostile=...)``, see :data:`HOSTILE_MODES`): what an overloaded server or
a broken proxy in front of one can do to a client that already sent its prompt. The answer is the
one the real server would send, delivered badly:

* ``"trickle"``: the headers, then one byte every ``hostile_interval_seconds``;
* ``"stall_after_headers"``: the headers, then nothing;
* ``"slow_headers"``: the status line and headers themselves one byte per interval;
* ``"drop_mid_body"``: the headers and half the body, then the connection closes;
* ``"invalid_json"``: well framed, but the JSON is cut in half.

A 500 after reading the prompt is the faithful ``Reply(status=500, error=...)``. A hostile answer
stops as soon as the client hangs up or the stand-in stops.

Scripting (see :class:`OllamaStandIn`)::

    with OllamaStandIn() as standin:
        standin.reply("fixed answer", done_reason="length")
        client = ollama.Client(host=standin.url, timeout=5)
        ...
        assert standin.inference_requests[-1].body["think"] is False

Run by hand: ``python tests/ollama_standin.py --port 11434 --reply-file answer.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import math
import re
import select
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import ollama

__all__ = [
    "DEFAULT_MODEL",
    "HOSTILE_MODES",
    "QWEN3_8B",
    "QWEN3_CODER_30B",
    "QWEN25_CODER_7B",
    "InferenceRequest",
    "ModelSpec",
    "OllamaStandIn",
    "RecordedRequest",
    "Reply",
    "Responder",
    "StandInError",
    "estimate_tokens",
]

OLLAMA_VERSION = "0.12.6"
CHARS_PER_TOKEN = 4

Endpoint = Literal["generate", "chat"]
DoneReason = Literal["stop", "length"]
Hostile = Literal["trickle", "stall_after_headers", "slow_headers", "drop_mid_body", "invalid_json"]
HOSTILE_MODES: tuple[Hostile, ...] = (
    "trickle",
    "stall_after_headers",
    "slow_headers",
    "drop_mid_body",
    "invalid_json",
)

_QWEN_TEMPLATE = (
    "{{- if .Messages }}\n{{- if or .System .Tools }}<|im_start|>system\n{{- if .System }}\n"
    "{{ .System }}\n{{- end }}<|im_end|>\n{{ end }}\n{{- range $i, $_ := .Messages }}"
    "<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
    "{{ else }}{{ .Prompt }}{{ end }}"
)
_APACHE_LICENSE = "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/"


def estimate_tokens(text: str) -> int:
    """The stand-in's token count for ``text``: about one token per 4 characters."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _go_time(moment: datetime) -> str:
    """Format ``moment`` the way Go marshals a ``time.Time`` (RFC 3339, nanoseconds)."""
    text = moment.isoformat(timespec="microseconds")
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def _now_go(ns: int | None = None) -> str:
    """Current UTC time as Go's ``time.Now().UTC()`` marshals it (RFC3339Nano)."""
    ns = time.time_ns() if ns is None else ns
    seconds, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}".rstrip("0")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


@dataclass(frozen=True)
class ModelSpec:
    """One model the stand-in has "pulled".

    ``capabilities`` decides behaviour: with ``"thinking"`` the model thinks unless asked not to;
    without it, ``think: true`` is refused with 400.
    ``default_num_ctx`` is the context the server uses when a request sets no
    ``options.num_ctx``; prompts longer than the context are silently cut.
    """

    name: str = "qwen2.5-coder:7b"
    family: str = "qwen2"
    context_length: int = 32768
    capabilities: tuple[str, ...] = ("completion", "tools", "insert")
    parameter_size: str = "7.6B"
    parameter_count: int = 7_615_616_512
    quantization_level: str = "Q4_K_M"
    size: int = 4_683_087_332
    default_num_ctx: int = 4096
    modified_at: datetime = datetime(2025, 9, 30, 14, 21, 7, 512_345, tzinfo=UTC)
    template: str = _QWEN_TEMPLATE
    license: str = _APACHE_LICENSE
    parameters: str = ""

    @property
    def thinking(self) -> bool:
        """Whether the model has the ``thinking`` capability."""
        return "thinking" in self.capabilities

    @property
    def digest(self) -> str:
        """A stable, fake manifest digest (64 hex digits), as ``/api/tags`` shows it."""
        return hashlib.sha256(self.name.encode()).hexdigest()

    @property
    def details(self) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }

    @property
    def model_info(self) -> dict[str, Any]:
        """``model_info`` as ``/api/show`` gives it (GGUF metadata, keys sorted)."""
        fam = self.family
        info: dict[str, Any] = {
            "general.architecture": fam,
            "general.basename": self.name.split(":", 1)[0],
            "general.file_type": 15,
            "general.parameter_count": self.parameter_count,
            "general.quantization_version": 2,
            "general.type": "model",
            f"{fam}.attention.head_count": 28,
            f"{fam}.attention.head_count_kv": 4,
            f"{fam}.block_count": 28,
            f"{fam}.context_length": self.context_length,
            f"{fam}.embedding_length": 3584,
            f"{fam}.rope.freq_base": 1_000_000,
            "tokenizer.ggml.model": "gpt2",
            "tokenizer.ggml.pre": fam,
        }
        return dict(sorted(info.items()))


QWEN25_CODER_7B = ModelSpec()
"""Non-thinking coder model, 32,768-token native context (the default model)."""

QWEN3_CODER_30B = ModelSpec(
    name="qwen3-coder:30b",
    family="qwen3moe",
    context_length=262_144,
    capabilities=("completion", "tools"),
    parameter_size="30.5B",
    parameter_count=30_532_122_624,
    size=18_556_701_140,
)
"""Non-thinking coder model, 262,144-token native context."""

QWEN3_8B = ModelSpec(
    name="qwen3:8b",
    family="qwen3",
    context_length=40_960,
    capabilities=("completion", "tools", "thinking"),
    parameter_size="8.2B",
    parameter_count=8_190_735_360,
    size=5_225_388_164,
)
"""A thinking-capable model: without ``think: false`` its answer goes to ``thinking``."""

DEFAULT_MODEL = QWEN25_CODER_7B


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


# ---------------------------------------------------------------------------------------------
# The stand-in


class OllamaStandIn:
    """A fake Ollama server on ``127.0.0.1`` for tests.

    Use as a context manager (or :meth:`start` / :meth:`stop`). Script answers with
    :meth:`reply`, :meth:`replies` or :meth:`respond`; inspect :attr:`requests`.

    Problems on the test's side (a responder or hook raised, scripted replies ran out, a path
    the stand-in does not implement was called) answer 500/501 to the client and are kept in
    :attr:`errors`; :meth:`check` raises them (the ``ollama_standin`` fixture calls it at
    teardown).
    """

    def __init__(
        self,
        models: Sequence[ModelSpec] = (DEFAULT_MODEL,),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        version: str = OLLAMA_VERSION,
    ) -> None:
        names = [_normalize_name(m.name) for m in models]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate model names in {[m.name for m in models]}")
        self.models: tuple[ModelSpec, ...] = tuple(models)
        self.version = version
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._requests: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._responder: Responder = lambda _req: Reply(text="Hello from the Ollama stand-in.")
        self._inference_count = 0
        self._loaded: dict[str, tuple[datetime, int]] = {}
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopped = False

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> OllamaStandIn:
        """Bind the port and serve in a background thread. Returns ``self``."""
        if self._server is not None or self._stopped:
            raise RuntimeError("an OllamaStandIn can be started only once")
        server = _Server((self._host, self._port), _Handler)
        server.standin = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"ollama-standin:{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop serving and free the port (idempotent).

        Requests waiting in a delay are dropped without an answer; idle keep-alive connections
        are closed, so the port refuses connections afterwards.
        """
        server = self._server
        if server is None or self._stopped:
            self._stopped = True
            return
        self._stopped = True
        self._stopping.set()
        server.shutdown()
        with self._lock:
            connections = dict(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        deadline = time.monotonic() + timeout
        for thread in connections.values():
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> OllamaStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None and not self._stopped

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """``"127.0.0.1:PORT"``, the form ``OLLAMA_HOST`` takes."""
        return f"{self._host}:{self.port}"

    @property
    def url(self) -> str:
        """``"http://127.0.0.1:PORT"``."""
        return f"http://{self.host}"

    def client(self, timeout: float | None = 10.0, **kwargs: Any) -> ollama.Client:
        """An official ``ollama.Client`` pointed at this stand-in."""
        import ollama

        return ollama.Client(host=self.url, timeout=timeout, **kwargs)

    # -- scripting ----------------------------------------------------------------------------

    def respond(self, fn: Responder) -> Responder:
        """Answer every inference request with ``fn(request)``. Usable as a decorator."""
        with self._lock:
            self._responder = fn
        return fn

    def reply(self, text: str | Reply = "", **kwargs: Any) -> Reply:
        """Answer every inference request with the same reply (``Reply(text, **kwargs)``)."""
        reply = text if isinstance(text, Reply) else Reply(text=text, **kwargs)
        self.respond(lambda _req: reply)
        return reply

    def replies(self, items: Iterable[str | Reply], *, then: str | Reply | None = None) -> None:
        """Answer successive inference requests with ``items`` in order.

        Once they run out, answer with ``then``; without ``then``, a further request gets a 500
        and is reported as an error (see :meth:`check`).
        """
        queue = iter([i if isinstance(i, Reply) else Reply(text=i) for i in items])
        fallback = then if isinstance(then, Reply) or then is None else Reply(text=then)
        lock = threading.Lock()
        used = itertools.count()

        def next_reply(_req: InferenceRequest) -> Reply:
            with lock:
                item = next(queue, None)
                count = next(used)
            if item is not None:
                return item
            if fallback is not None:
                return fallback
            raise StandInError(f"no scripted reply left: all {count} were used")

        self.respond(next_reply)

    # -- inspection ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def inference_requests(self) -> list[RecordedRequest]:
        """The ``/api/generate`` and ``/api/chat`` requests received so far."""
        return [r for r in self.requests if r.path in ("/api/generate", "/api/chat")]

    @property
    def inference_count(self) -> int:
        """How many inference requests reached the responder."""
        with self._lock:
            return self._inference_count

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def errors(self) -> list[str]:
        """A snapshot of the test-side problems met so far."""
        with self._lock:
            return list(self._errors)

    def take_errors(self) -> list[str]:
        """Return the test-side problems met so far and forget them."""
        with self._lock:
            errors, self._errors = self._errors, []
        return errors

    def check(self) -> None:
        """Raise :class:`StandInError` if any test-side problem was met."""
        errors = self.take_errors()
        if errors:
            raise StandInError("Ollama stand-in problems:\n" + "\n".join(errors))

    # -- internals used by the handler --------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)

    def _find_model(self, name: str) -> ModelSpec | None:
        wanted = _normalize_name(name)
        for model in self.models:
            if _normalize_name(model.name) == wanted:
                return model
        return None

    def _next_index(self) -> int:
        with self._lock:
            index = self._inference_count
            self._inference_count += 1
            return index

    def _current_responder(self) -> Responder:
        with self._lock:
            return self._responder

    def _mark_loaded(self, model: ModelSpec, keep_alive: Any, num_ctx: int) -> None:
        duration = _parse_keep_alive(keep_alive)
        with self._lock:
            if duration == timedelta(0):
                self._loaded.pop(model.name, None)
            else:
                expires = datetime.now(UTC) + (duration or timedelta(minutes=5))
                self._loaded[model.name] = (expires, num_ctx)

    def _ps(self) -> dict[str, Any]:
        now = datetime.now(UTC)
        with self._lock:
            loaded = {k: v for k, v in self._loaded.items() if v[0] > now}
            self._loaded = dict(loaded)
        entries = []
        for name, (expires, num_ctx) in sorted(loaded.items(), key=lambda kv: kv[1][0]):
            spec = self._find_model(name)
            if spec is None:
                continue
            entries.append(
                {
                    "name": spec.name,
                    "model": spec.name,
                    "size": spec.size + 400_000_000,
                    "digest": spec.digest,
                    "details": spec.details,
                    "expires_at": _go_time(expires),
                    "size_vram": spec.size + 400_000_000,
                    "context_length": num_ctx,
                }
            )
        return {"models": entries[::-1]}


# ---------------------------------------------------------------------------------------------
# HTTP plumbing


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # OllamaStandIn.stop() closes connections and joins with a timeout
    standin: OllamaStandIn

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError) or self.standin._stopping.is_set():
            return  # a client that went away, or the stand-in stopping
        self.standin._error(f"stand-in handler crashed: {exc!r}")


_ROUTES: dict[str, tuple[str, ...]] = {
    "/": ("GET", "HEAD"),
    "/api/version": ("GET", "HEAD"),
    "/api/tags": ("GET", "HEAD"),
    "/api/show": ("POST",),
    "/api/ps": ("GET",),
    "/api/generate": ("POST",),
    "/api/chat": ("POST",),
}

# Routes the real server has but the stand-in does not implement: answered 501 and reported.
_UNIMPLEMENTED: dict[str, tuple[str, ...]] = {
    "/api/pull": ("POST",),
    "/api/push": ("POST",),
    "/api/create": ("POST",),
    "/api/copy": ("POST",),
    "/api/delete": ("DELETE",),
    "/api/embed": ("POST",),
    "/api/embeddings": ("POST",),
    "/v1/chat/completions": ("POST",),
    "/v1/completions": ("POST",),
    "/v1/embeddings": ("POST",),
    "/v1/models": ("GET",),
}

_INT_OPTIONS = frozenset({"num_ctx", "num_predict", "num_keep", "seed", "top_k", "num_batch"})
_FLOAT_OPTIONS = frozenset(
    {"temperature", "top_p", "min_p", "typical_p", "repeat_penalty", "presence_penalty"}
    | {"frequency_penalty", "repeat_last_n"}
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    # The real server (Go net/http) sends a Date header but no Server header.
    def send_response(self, code: int, message: str | None = None) -> None:
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def log_message(self, *args: Any) -> None:
        pass  # quiet: tests read requests from OllamaStandIn.requests instead

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        standin = self.server.standin
        with standin._lock:
            standin._connections[self.connection] = threading.current_thread()

    def finish(self) -> None:
        standin = self.server.standin
        with standin._lock:
            standin._connections.pop(self.connection, None)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    # -- dispatch -----------------------------------------------------------------------------

    @property
    def standin(self) -> OllamaStandIn:
        return self.server.standin

    def _dispatch(self) -> None:
        path, _, query = self.path.partition("?")
        raw = self._read_body()
        body: Any = None
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        self.standin._record(
            RecordedRequest(
                method=self.command,
                path=path,
                query=query,
                headers={k.lower(): v for k, v in self.headers.items()},
                raw_body=raw,
                body=body,
                time=time.time(),
            )
        )
        try:
            self._route(path, raw)
        except _Abort:
            self.close_connection = True
        except _HTTPError as err:
            self._send_json(err.status, {"error": err.message})
        except OSError:
            self.close_connection = True  # the client went away

    def _route(self, path: str, raw: bytes) -> None:
        method = self.command
        allowed = _ROUTES.get(path) or _UNIMPLEMENTED.get(path)
        if allowed is None:
            self._send_text(404, "404 page not found")
            return
        if method not in allowed:
            self._send_text(405, "405 method not allowed", allow=", ".join(allowed))
            return
        if path in _UNIMPLEMENTED:
            message = f"the Ollama stand-in does not implement {method} {path}"
            self.standin._error(message)
            self._send_json(501, {"error": message})
            return
        if path == "/":
            self._send_text(200, "Ollama is running")
        elif path == "/api/version":
            self._send_json(200, {"version": self.standin.version})
        elif path == "/api/tags":
            self._send_json(200, self._tags())
        elif path == "/api/ps":
            self._send_json(200, self.standin._ps())
        elif path == "/api/show":
            self._show(_parse_body(raw, "ShowRequest"))
        elif path == "/api/generate":
            self._inference("generate", _parse_body(raw, "GenerateRequest"))
        elif path == "/api/chat":
            self._inference("chat", _parse_body(raw, "ChatRequest"))

    # -- simple endpoints ---------------------------------------------------------------------

    def _tags(self) -> dict[str, Any]:
        models = sorted(self.standin.models, key=lambda m: m.modified_at, reverse=True)
        return {
            "models": [
                {
                    "name": m.name,
                    "model": m.name,
                    "modified_at": _go_time(m.modified_at),
                    "size": m.size,
                    "digest": m.digest,
                    "details": m.details,
                }
                for m in models
            ]
        }

    def _show(self, body: dict[str, Any]) -> None:
        _check_types(body, "ShowRequest", {"model": str, "name": str})
        name = body.get("model") or body.get("name") or ""
        if not name:
            raise _HTTPError(400, "model is required")
        spec = self.standin._find_model(name)
        if spec is None:
            raise _HTTPError(404, f"model '{name}' not found")
        modelfile = (
            '# Modelfile generated by "ollama show"\n'
            "# To build a new Modelfile based on this, replace FROM with:\n"
            f"# FROM {spec.name}\n\n"
            f"FROM /root/.ollama/models/blobs/sha256-{spec.digest}\n"
            f'TEMPLATE """{spec.template}"""\n'
            f'LICENSE """{spec.license}"""\n'
        )
        answer: dict[str, Any] = {"license": spec.license, "modelfile": modelfile}
        if spec.parameters:
            answer["parameters"] = spec.parameters
        answer.update(
            {
                "template": spec.template,
                "details": spec.details,
                "model_info": spec.model_info,
                "capabilities": list(spec.capabilities),
                "modified_at": _go_time(spec.modified_at),
            }
        )
        self._send_json(200, answer)

    # -- inference ----------------------------------------------------------------------------

    def _inference(self, endpoint: Endpoint, body: dict[str, Any]) -> None:
        started_ns = time.monotonic_ns()
        go_type = "GenerateRequest" if endpoint == "generate" else "ChatRequest"
        _check_types(
            body,
            go_type,
            {
                "model": str,
                "prompt": str,
                "suffix": str,
                "system": str,
                "stream": bool,
                "raw": bool,
                "options": dict,
                "messages": list,
            },
        )
        think = _parse_think(body.get("think"))
        name = body.get("model") or ""
        spec = self.standin._find_model(name) if name else None
        if spec is None:
            if endpoint == "chat" and not name:
                raise _HTTPError(400, "model is required")
            raise _HTTPError(404, f"model '{name}' not found")
        thinking = spec.thinking and think is not False
        if not spec.thinking and think not in (None, False):
            raise _HTTPError(400, f"{json.dumps(name)} does not support thinking")

        options: dict[str, Any] = dict(body.get("options") or {})
        for key, value in options.items():
            if key in _INT_OPTIONS and not _is_number(value):
                raise _HTTPError(500, f'option "{key}" must be of type integer')
            if key in _FLOAT_OPTIONS and not _is_number(value):
                raise _HTTPError(500, f'option "{key}" must be of type float32')
        num_ctx = int(options.get("num_ctx") or spec.default_num_ctx)
        keep_alive = body.get("keep_alive")
        stream = body.get("stream", True) is not False

        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        if endpoint == "generate":
            prompt = body.get("prompt") or ""
            system = body.get("system")
            empty = not prompt
        else:
            contents = [m.get("content") or "" for m in messages]
            prompt = "\n".join(contents)
            system_parts = [m.get("content") or "" for m in messages if m.get("role") == "system"]
            system = "\n".join(system_parts) if system_parts else None
            empty = not messages

        if empty:  # a load (or, with keep_alive 0, unload) request: no generation
            self.standin._mark_loaded(spec, keep_alive, num_ctx)
            unload = _parse_keep_alive(keep_alive) == timedelta(0)
            answer: dict[str, Any] = {"model": name, "created_at": _now_go()}
            if endpoint == "generate":
                answer["response"] = ""
            else:
                answer["message"] = {"role": "assistant", "content": ""}
            answer.update({"done": True, "done_reason": "unload" if unload else "load"})
            self._send_json(200, answer)
            return

        sent = (system or "") + prompt if endpoint == "generate" else prompt
        full_prompt_tokens = estimate_tokens(sent)
        request = InferenceRequest(
            endpoint=endpoint,
            model=name,
            prompt=prompt,
            system=system,
            messages=tuple(messages),
            options=options,
            think=think,
            thinking=thinking,
            stream=stream,
            format=body.get("format"),
            keep_alive=keep_alive,
            body=body,
            index=self.standin._next_index(),
            num_ctx=num_ctx,
            prompt_tokens=min(full_prompt_tokens, num_ctx),
            prompt_truncated=full_prompt_tokens > num_ctx,
        )
        reply = self._get_reply(request)
        if reply.on_request is not None:
            try:
                reply.on_request(request)
            except Exception as exc:
                self.standin._error(
                    f"Reply.on_request raised {exc!r} for {endpoint} #{request.index}"
                )
                raise _HTTPError(500, f"stand-in on_request hook failed: {exc!r}") from exc
        self._wait(reply.delay_seconds)
        self.standin._mark_loaded(spec, keep_alive, num_ctx)
        if reply.is_error:
            raise _HTTPError(reply.status or 500, reply.error or "stand-in scripted error")

        # What the model "generates".
        if thinking:
            if reply.thinking is None:
                thought, text = reply.text, ""
            else:
                thought, text = reply.thinking, reply.text
        else:
            thought, text = "", reply.text
        done_reason: str = reply.done_reason
        num_predict = options.get("num_predict")
        if isinstance(num_predict, int | float) and num_predict > 0:
            budget = int(num_predict) * CHARS_PER_TOKEN
            if len(thought) + len(text) > budget:
                thought, text = thought[:budget], text[: max(0, budget - len(thought))]
                done_reason = "length"
        eval_count = reply.eval_count
        if eval_count is None:
            eval_count = max(1, estimate_tokens(thought) + estimate_tokens(text))
        prompt_eval_count = (
            reply.prompt_eval_count
            if reply.prompt_eval_count is not None
            else request.prompt_tokens
        )

        pieces: list[tuple[str, str]] = [
            ("thinking", thought[i : i + reply.chunk_chars])
            for i in range(0, len(thought), reply.chunk_chars)
        ] + [
            ("content", text[i : i + reply.chunk_chars])
            for i in range(0, len(text), reply.chunk_chars)
        ]
        error_at = (len(pieces) + 1) // 2 if reply.error_mid_stream is not None else None

        def chunk(kind: str, piece: str, done: bool) -> dict[str, Any]:
            content = piece if kind == "content" else ""
            out: dict[str, Any] = {"model": name, "created_at": _now_go()}
            if endpoint == "generate":
                out["response"] = content
                if kind == "thinking" and piece:
                    out["thinking"] = piece
            else:
                message = {"role": "assistant", "content": content}
                if kind == "thinking" and piece:
                    message["thinking"] = piece
                out["message"] = message
            out["done"] = done
            return out

        def final(all_thinking: str, all_text: str) -> dict[str, Any]:
            out = chunk("content", all_text, True)
            if all_thinking:
                if endpoint == "generate":
                    out["thinking"] = all_thinking
                else:
                    out["message"]["thinking"] = all_thinking
            out["done_reason"] = done_reason
            if endpoint == "generate":
                out["context"] = _fake_context(prompt_eval_count + eval_count)
            prompt_eval_ns = prompt_eval_count * 250_000
            eval_ns = eval_count * 20_000_000
            load_ns = 15_000_000
            elapsed = time.monotonic_ns() - started_ns
            out.update(
                {
                    "total_duration": max(elapsed, load_ns + prompt_eval_ns + eval_ns),
                    "load_duration": load_ns,
                    "prompt_eval_count": prompt_eval_count,
                    "prompt_eval_duration": prompt_eval_ns,
                    "eval_count": eval_count,
                    "eval_duration": eval_ns,
                }
            )
            return out

        if reply.hostile is not None:
            if stream:
                answers = [chunk(kind, piece, False) for kind, piece in pieces] + [final("", "")]
            else:
                answers = [final(thought, text)]
            self._send_hostile(reply, answers, stream=stream)
            return

        if not stream:
            for _ in pieces:
                self._wait(reply.chunk_delay_seconds)
            if reply.error_mid_stream is not None:
                raise _HTTPError(500, reply.error_mid_stream)
            self._send_json(200, final(thought, text))
            return

        if error_at == 0:  # fails before anything was written: a plain error response
            raise _HTTPError(500, reply.error_mid_stream or "")
        self._start_stream()
        for number, (kind, piece) in enumerate(pieces):
            if number == error_at:
                break
            if number:
                self._wait(reply.chunk_delay_seconds)
            self._stream_line(chunk(kind, piece, False))
        if error_at is not None:  # the real server ends the 200 stream with an error line
            self._stream_line({"error": reply.error_mid_stream})
        else:
            self._stream_line(final("", ""))
        self._end_stream()

    def _get_reply(self, request: InferenceRequest) -> Reply:
        responder = self.standin._current_responder()
        try:
            reply = responder(request)
        except Exception as exc:
            self.standin._error(f"responder raised {exc!r} for {request.endpoint} #{request.index}")
            raise _HTTPError(500, f"stand-in responder failed: {exc!r}") from exc
        if isinstance(reply, str):
            return Reply(text=reply)
        if not isinstance(reply, Reply):
            message = f"responder returned {type(reply).__name__}, not Reply or str"
            self.standin._error(message)
            raise _HTTPError(500, message)
        return reply

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self.standin._stopping.wait(seconds):
            raise _Abort
        if self.standin._stopping.is_set():
            raise _Abort

    # -- hostile answers ----------------------------------------------------------------------

    def _send_hostile(self, reply: Reply, answers: list[dict[str, Any]], *, stream: bool) -> None:
        """Send `answers` (one JSON object, or the stream's lines) as ``reply.hostile`` says."""
        encoded = [
            json.dumps(a, ensure_ascii=False, separators=(",", ":")).encode() for a in answers
        ]
        if reply.hostile == "invalid_json":  # the framing is right, the JSON is cut in half
            encoded[-1] = encoded[-1][: len(encoded[-1]) // 2]
        if stream:
            body = b"".join(b"%x\r\n%s\n\r\n" % (len(line) + 1, line) for line in encoded)
            body += b"0\r\n\r\n"
            fields = {"Content-Type": "application/x-ndjson", "Transfer-Encoding": "chunked"}
        else:
            body = encoded[0]
            fields = {
                "Content-Type": "application/json; charset=utf-8",
                "Content-Length": str(len(body)),
            }
        fields = {"Date": self.date_time_string(), **fields}
        head = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        head_bytes = (head + "\r\n").encode()
        interval = reply.hostile_interval_seconds
        if reply.hostile == "slow_headers":
            for byte in head_bytes:
                self._write_now(bytes([byte]))
                self._pause(interval)
            self._write_now(body)
            return
        self._write_now(head_bytes)
        if reply.hostile == "trickle":
            for byte in body:
                self._pause(interval)
                self._write_now(bytes([byte]))
        elif reply.hostile == "stall_after_headers":
            while True:
                self._pause(3600)
        elif reply.hostile == "drop_mid_body":
            self._write_now(body[: len(body) // 2])
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self._write_now(body)

    def _write_now(self, data: bytes) -> None:
        self.wfile.write(data)
        self.wfile.flush()

    def _pause(self, seconds: float) -> None:
        """Wait `seconds`; raise _Abort as soon as the client hangs up or the stand-in stops."""
        end = time.monotonic() + seconds
        while not self.standin._stopping.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if readable:
                try:
                    hung_up = not self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    hung_up = True
                if hung_up:
                    raise _Abort
                time.sleep(min(left, 0.05))  # the client sent more: not a hang-up
        raise _Abort

    # -- I/O ----------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_bytes(self, status: int, data: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in headers.items():
            self.send_header(key.replace("_", "-").title(), value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_json(self, status: int, obj: Any) -> None:
        data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
        self._send_bytes(status, data, "application/json; charset=utf-8")

    def _send_text(self, status: int, text: str, **headers: str) -> None:
        self._send_bytes(status, text.encode(), "text/plain; charset=utf-8", **headers)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _stream_line(self, obj: Any) -> None:
        data = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


# ---------------------------------------------------------------------------------------------
# Helpers


def _normalize_name(name: str) -> str:
    """Model names match case-insensitively; a missing tag means ``latest``."""
    name = name.strip().lower()
    last = name.rsplit("/", 1)[-1]
    return name if ":" in last else f"{name}:latest"


def _parse_body(raw: bytes, go_type: str) -> dict[str, Any]:
    """Decode a JSON object body, failing like Gin's ``ShouldBindJSON`` does."""
    if not raw.strip():
        raise _HTTPError(400, "missing request body")
    try:
        body = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise _HTTPError(400, "invalid character in request body") from exc
    except json.JSONDecodeError as exc:
        if exc.pos >= len(exc.doc.rstrip()):
            raise _HTTPError(400, "unexpected EOF") from exc
        char = exc.doc[exc.pos]
        where = (
            "looking for beginning of value"
            if exc.msg.startswith("Expecting value")
            else (exc.msg[0].lower() + exc.msg[1:])
        )
        raise _HTTPError(400, f"invalid character {char!r} {where}") from exc
    if not isinstance(body, dict):
        kind = _json_kind(body)
        raise _HTTPError(400, f"json: cannot unmarshal {kind} into Go value of type api.{go_type}")
    return body


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


_GO_TYPE_NAMES = {
    str: "string",
    bool: "bool",
    dict: "map[string]interface {}",
    list: "[]api.Message",
}


def _check_types(body: dict[str, Any], go_type: str, fields: Mapping[str, type]) -> None:
    for key, expected in fields.items():
        value = body.get(key)
        if value is None:
            continue
        ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
        if not ok:
            raise _HTTPError(
                400,
                f"json: cannot unmarshal {_json_kind(value)} into Go struct field "
                f"{go_type}.{key} of type {_GO_TYPE_NAMES[expected]}",
            )


def _parse_think(value: Any) -> bool | str | None:
    """Validate ``think`` as Ollama's ``api.ThinkValue`` does (bool or high/medium/low)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("high", "medium", "low"):
        return value
    raise _HTTPError(
        400, 'think must be a boolean or string ("high", "medium", "low", true, or false)'
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_DURATION_RE = re.compile(r"^(?:(\d+(?:\.\d+)?)(h|m|s|ms))+$")


def _parse_keep_alive(value: Any) -> timedelta | None:
    """``keep_alive`` as a duration (seconds, or Go duration text); ``None`` when absent."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return timedelta(seconds=max(0.0, float(value))) if value >= 0 else timedelta(days=3650)
    text = str(value).strip()
    if text.startswith("-"):
        return timedelta(days=3650)  # negative: keep loaded "forever"
    try:
        return timedelta(seconds=float(text))
    except ValueError:
        pass
    if not _DURATION_RE.match(text):
        return None
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    total = sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text))
    return timedelta(seconds=total)


def _fake_context(length: int) -> list[int]:
    """Stand-in for the token ids ``/api/generate`` returns in ``context``."""
    return [(151_644 + i * 7919) % 151_936 for i in range(max(1, length))]


# ---------------------------------------------------------------------------------------------
# Manual runner


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a stand-in by hand until interrupted (for poking at it with curl or a client)."""
    parser = argparse.ArgumentParser(description="Run the Ollama stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--reply-file", type=Path, help="answer with this file (re-read each time)")
    group.add_argument("--reply", default=None, help="answer with this text")
    parser.add_argument("--thinking", action="store_true", help="also serve thinking qwen3:8b")
    args = parser.parse_args(argv)

    models: list[ModelSpec] = [QWEN25_CODER_7B, QWEN3_CODER_30B]
    if args.thinking:
        models.append(QWEN3_8B)
    standin = OllamaStandIn(models, host=args.host, port=args.port)
    reply_file: Path | None = args.reply_file
    if reply_file is not None:
        standin.respond(lambda _req: Reply(text=reply_file.read_text(encoding="utf-8")))
    elif args.reply is not None:
        standin.reply(args.reply)
    with standin:
        print(f"Ollama stand-in listening on {standin.url} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
