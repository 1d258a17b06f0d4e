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

Run by hand: ``python tests/support/ollama_standin.py --port 11434 --reply-file answer.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.standin_http import _Handler, _normalize_name, _parse_keep_alive, _Server
from tests.support.standin_models import (
    DEFAULT_MODEL,
    HOSTILE_MODES,
    OLLAMA_VERSION,
    QWEN3_8B,
    QWEN3_CODER_30B,
    QWEN25_CODER_7B,
    ModelSpec,
    _go_time,
    estimate_tokens,
)
from tests.support.standin_script import (
    InferenceRequest,
    RecordedRequest,
    Reply,
    Responder,
    StandInError,
)

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
