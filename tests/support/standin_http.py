"""The Ollama stand-in's HTTP side: the server, and the handler that mirrors Ollama's routes,
its body parsing, its streaming and its errors."""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import sys
import threading
import time
from collections.abc import Mapping
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from tests.support.standin_models import (
    CHARS_PER_TOKEN,
    Endpoint,
    _go_time,
    _now_go,
    estimate_tokens,
)
from tests.support.standin_script import (
    InferenceRequest,
    RecordedRequest,
    Reply,
    _Abort,
    _HTTPError,
)

# ---------------------------------------------------------------------------------------------
# HTTP plumbing

if TYPE_CHECKING:
    from tests.support.ollama_standin import OllamaStandIn


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
