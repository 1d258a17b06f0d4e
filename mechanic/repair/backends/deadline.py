"""A deadline for one whole HTTP request to a model server, enforced from outside it.

httpx's timeouts bound each network operation, not the request: a server that
sends its headers and then one byte every 1.5 s never trips a 3 s read timeout,
and would hold the cycle (and its lock) for as long as it likes. So every request
runs under a `RequestWatch`: a timer that, at the deadline, shuts the request's
socket down from outside, which makes the blocked read return at once (closing
the socket from another thread would not wake it on Linux; shutting it down does).
The request then fails in its own thread and the watch says it was the deadline.

The watch follows the request through httpcore's documented `trace` extension,
which names the socket when it is connected and each stage as it is reached, so
a failure can say what had happened: not connected, prompt being sent, prompt
sent and no answer yet, or the answer under way. Connections are not reused
(`LIMITS`): a reused one is never "connected", so its socket would go unseen.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import httpx

# One connection per request, closed after it: the watch sees every socket it must cut.
LIMITS = httpx.Limits(max_keepalive_connections=0)

# How far a request got, in order.
CONNECTING = "connecting"
SENDING = "sending"  # the prompt is being written
SENT = "sent"  # the prompt is out; no answer yet
ANSWERING = "answering"  # the answer's status and headers arrived; its body is coming
ANSWERED = "answered"  # the whole body arrived

_STAGE_EVENTS = {
    "http11.send_request_headers.started": SENDING,
    "http11.send_request_body.complete": SENT,
    "http11.receive_response_headers.complete": ANSWERING,
    "http11.receive_response_body.complete": ANSWERED,
}


class RequestWatch:
    """One request's deadline and progress. Use as a context manager around the
    request, passing `trace` as the request's `trace` extension."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.stage = CONNECTING
        self.status: int | None = None  # the answer's HTTP status, once its headers arrived
        self.expired = False  # the deadline passed while the request was running
        self._started = time.monotonic()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._over = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True  # a stop or exit never waits for it

    def __enter__(self) -> RequestWatch:
        self._started = time.monotonic()
        self._timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._over = True  # a timer firing now must not touch a finished request's socket

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    @property
    def prompt_sent(self) -> bool:
        """The prompt had (at least partly) left mechanic."""
        return self.stage != CONNECTING

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace callback, called in the request's own thread."""
        if event.startswith("connection.") and event.endswith(".complete"):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                self._watch(sock)
            return
        stage = _STAGE_EVENTS.get(event)
        if stage is not None:
            self.stage = stage
        if event == "http11.receive_response_headers.complete":
            self.status = int(info["return_value"][1])

    def _watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            late = self.expired and not self._over
        if late:  # connected just as the deadline passed
            _cut(sock)

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            for sock in self._sockets:
                _cut(sock)


def _cut(sock: socket.socket) -> None:
    """Wake a read blocked on `sock`, whichever thread it is in."""
    with contextlib.suppress(OSError):  # already closed by the request itself
        sock.shutdown(socket.SHUT_RDWR)
