"""JavaScript syntax checking through one long-lived node process.

node is the authority: a file is broken when the V8 of the node found here refuses
to compile it, as CommonJS or as an ES module according to node's own rules
(`.mjs`, `.cjs`, the nearest package.json "type", and for a `.js` file with no
"type" a retry as a module when CommonJS fails on ESM syntax). The node side lives
in `js_check.cjs`; this module starts it lazily, pipes JSON lines to it and turns
its answers into `Finding`s.

One process serves every check, because starting node costs ~40 ms a file while a
warm process judges thousands of files a second.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mechanic.detect.checkers.base import Checker, Finding
from mechanic.errors import CheckerUnavailable
from mechanic.files.userfile import read_regular

# Bump when js_check.cjs changes how it judges, so cached clean verdicts are redone.
CHECKER_REVISION = 1

SCRIPT = Path(__file__).with_name("js_check.cjs")
NODE_FLAGS = ("--experimental-vm-modules", "--no-warnings")

# Where node lives when the daemon runs with a bare PATH (launchd, systemd units).
FALLBACK_NODES = ("/opt/homebrew/bin/node", "/usr/local/bin/node", "/usr/bin/node")

DEFAULT_TIMEOUT = 30.0
# Separate from the per-file timeout: a cold start on a busy machine can take seconds.
START_TIMEOUT = 60.0

# A write no larger than the smallest pipe buffer (16 KiB on macOS) into a pipe that
# node has drained cannot block, so it needs no writer thread.
INLINE_WRITE_LIMIT = 16 * 1024

_EOF = object()

# Signs of a dialect node cannot run as is: JSX elements, Flow or TypeScript.
_DIALECTS = (
    (re.compile(r"</[A-Za-z][\w.:-]*>|<[A-Z][\w.]*(\s[^<>]*)?/>|return\s*\(?\s*<[A-Za-z]"), "JSX"),
    (re.compile(r"^\s*(//|/\*)\s*@flow\b", re.MULTILINE), "Flow"),
    (
        re.compile(
            r"^\s*(export\s+)?(interface|type)\s+[A-Z]\w*(<[^>]*>)?\s*[={]"
            r"|^\s*import\s+type\s|\)\s*:\s*(string|number|boolean|void|Promise<)",
            re.MULTILINE,
        ),
        "TypeScript",
    ),
)


class _NodeDied(Exception):
    """The node process went away with requests still unanswered."""


class _NodeProcess:
    """One running js_check.cjs: the pipes, a reader thread and a stderr tail."""

    def __init__(self, node: str) -> None:
        try:
            self.popen = subprocess.Popen(
                [node, *NODE_FLAGS, str(SCRIPT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise CheckerUnavailable(f"cannot start node at {node}: {exc}") from exc
        self.answers: queue.Queue[Any] = queue.Queue()
        self._stderr_tail: collections.deque[bytes] = collections.deque(maxlen=64)
        self._next_id = 0
        threading.Thread(target=self._read_answers, daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_reader.start()
        try:
            hello = self.answers.get(timeout=START_TIMEOUT)
        except queue.Empty:
            hello = None
        if not isinstance(hello, dict) or not hello.get("ready"):
            self.kill()
            raise CheckerUnavailable(
                f"node at {node} could not run {SCRIPT.name}"
                f" (needs Node.js 14 or newer): {self.stderr_tail() or 'no output'}"
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def write(self, data: bytes) -> None:
        # A dead node closes the pipe; the reader's EOF is what reports that.
        try:
            assert self.popen.stdin is not None
            self.popen.stdin.write(data)
            self.popen.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def stderr_tail(self) -> str:
        if not self.alive():
            # What a dead node said last may still be in flight through the pipe.
            self._stderr_reader.join(timeout=1)
        return b"".join(self._stderr_tail).decode("utf-8", "replace").strip()[-2000:]

    def stop(self) -> None:
        """End node: EOF first so it exits cleanly, then kill if it lingers."""
        try:
            if self.popen.stdin is not None:
                self.popen.stdin.close()
        except OSError:
            pass
        try:
            self.popen.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        try:
            self.popen.kill()
            self.popen.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            if self.popen.stdin is not None:
                self.popen.stdin.close()
        except OSError:
            pass

    def _read_answers(self) -> None:
        stdout = self.popen.stdout
        assert stdout is not None
        try:
            for raw in stdout:
                try:
                    message = json.loads(raw)
                except ValueError:
                    # Something else printed to stdout (a NODE_OPTIONS preload): not ours.
                    continue
                if isinstance(message, dict):
                    self.answers.put(message)
        except (OSError, ValueError):
            pass
        finally:
            self.answers.put(_EOF)
            stdout.close()

    def _read_stderr(self) -> None:
        # Drained continuously so a chatty node never blocks on a full stderr pipe.
        stderr = self.popen.stderr
        assert stderr is not None
        try:
            for raw in stderr:
                self._stderr_tail.append(raw)
        except (OSError, ValueError):
            pass
        finally:
            stderr.close()


def find_node() -> str | None:
    """The node executable on PATH, else in the usual install places, else None."""
    found = shutil.which("node")
    if found:
        return found
    for candidate in FALLBACK_NODES:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


class JavaScriptChecker(Checker):
    """Judges `.js`, `.mjs` and `.cjs` files with V8, through one node process.

    The process starts on the first check and ends with `close()`. If it dies
    during a check it is restarted once and the unanswered files are sent again.
    """

    language = "javascript"
    extensions = (".js", ".mjs", ".cjs")

    def __init__(self, node: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """`node`: the node executable (default: found on PATH or in the usual
        places). `timeout`: seconds node may spend on one file before it is
        killed and the check fails."""
        self._node_arg = node
        self._timeout = timeout
        self._process: _NodeProcess | None = None
        self._signature: str | None = None
        # Answers are matched to requests on one pipe: one exchange at a time.
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        """The node process's id while one is running, else None."""
        process = self._process
        return process.pid if process is not None and process.alive() else None

    def foreign_dialect(self, text: str) -> str | None:
        for pattern, dialect in _DIALECTS:
            if pattern.search(text):
                return (
                    f"looks like {dialect}, not plain JavaScript: node cannot judge it, so it"
                    " is not repaired (add it to the watch's exclude)"
                )
        return None

    def signature(self) -> str:
        if self._signature is None:
            node = self._node()
            try:
                done = subprocess.run(
                    [node, "--version"], capture_output=True, text=True, timeout=30, check=True
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise CheckerUnavailable(f"cannot run {node} --version: {exc}") from exc
            self._signature = f"node {done.stdout.strip()} js_check/{CHECKER_REVISION}"
        return self._signature

    def check_source(self, path: Path, source: bytes) -> Finding | None:
        # Invalid UTF-8 becomes U+FFFD, as node's own utf8 file reading does.
        request = {"path": os.path.abspath(path), "source": source.decode("utf-8", "replace")}
        (answer,) = self._exchange([request], [path])
        return self._finding(path, answer)

    def check_files(self, paths: Iterable[Path]) -> dict[Path, Finding | None]:
        """Judge files on disk, all in one pipelined exchange with node.

        Returns a verdict for every file that could be read. A path that could
        not be read (missing, vanished, a directory, no permission) is left out
        of the result rather than raising: the caller sees it is not judged.
        """
        unique = list(dict.fromkeys(paths))
        requests: list[dict[str, str]] = []
        asked: list[Path] = []
        for path in unique:
            absolute = os.path.abspath(path)
            request = {"path": absolute}
            if not _utf8_safe(absolute):
                # A name that is not valid UTF-8 cannot travel as a JSON string and
                # still open the same file in node: read it here instead.
                try:
                    request["source"] = read_regular(absolute).decode("utf-8", "replace")
                except OSError:
                    continue
            requests.append(request)
            asked.append(path)
        answers = self._exchange(requests, asked)
        results: dict[Path, Finding | None] = {}
        for path, answer in zip(asked, answers, strict=True):
            if answer.get("unreadable"):
                continue
            results[path] = self._finding(path, answer)
        return results

    def first_valid(
        self, path: Path, text: str, edits: list[list[tuple[int, int, str]]], *, limit_s: float
    ) -> tuple[int | None, int]:
        """Index of the first of `edits` (each a list of (start, end, replacement) on
        `text`, code point offsets) that V8 accepts as the content of `path`, and how
        many were tried. One round trip to node for the whole batch."""
        to16 = _utf16_offsets(text)
        wire = [[[to16(s), to16(e), new] for s, e, new in edit] for edit in edits]
        request = {
            "op": "first_valid",
            "path": os.path.abspath(path),
            "source": text,
            "edits": wire,
            "limit_ms": max(1, int(limit_s * 1000)),
        }
        (answer,) = self._exchange([request], [path])
        index = answer.get("index")
        return (index if isinstance(index, int) else None), int(answer.get("tried") or 0)

    def undeclared(self, path: Path, text: str) -> list[tuple[str, int, int]] | None:
        """References to names declared nowhere in `text` and not known globals, as
        (name, line, column); None when the text does not parse."""
        request = {"op": "undeclared", "path": os.path.abspath(path), "source": text}
        (answer,) = self._exchange([request], [path])
        if not answer.get("parsed"):
            return None
        return [(str(n), int(line), int(col)) for n, line, col in answer.get("names") or []]

    def shape(self, path: Path, text: str) -> tuple[list[int], list[int]] | None:
        """Code point offsets in `text` of its comma operators (commas of a sequence
        expression) and label colons, and of the places automatic semicolon insertion
        ended a statement; None when the text does not parse."""
        request = {"op": "shape", "path": os.path.abspath(path), "source": text}
        (answer,) = self._exchange([request], [path])
        if not answer.get("parsed"):
            return None
        back = _code_point_offsets(text)
        commas = [back(int(o)) for o in answer.get("commas") or []]
        return commas, [back(int(o)) for o in answer.get("asi") or []]

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.stop()
                self._process = None

    # -- internals ---------------------------------------------------------------

    def _node(self) -> str:
        if self._node_arg is not None:
            if os.path.isfile(self._node_arg) and os.access(self._node_arg, os.X_OK):
                return self._node_arg
            raise CheckerUnavailable(
                f"node not found at {self._node_arg}: correct the path to the node"
                " executable, or install Node.js (https://nodejs.org)"
            )
        node = find_node()
        if node is None:
            raise CheckerUnavailable(
                "node not found on PATH nor in " + ", ".join(FALLBACK_NODES) + ": install"
                " Node.js (https://nodejs.org) or give the full path to the node executable"
            )
        return node

    def _running(self) -> _NodeProcess:
        if self._process is not None and self._process.alive():
            return self._process
        if self._process is not None:
            # Died between checks (killed, OOM): a fresh one is all it takes.
            self._process.kill()
        process = _NodeProcess(self._node())
        self._process = process
        # A checker dropped without close() must not leave node behind.
        weakref.finalize(self, process.kill)
        return process

    def _exchange(self, requests: list[dict[str, Any]], paths: list[Path]) -> list[dict[str, Any]]:
        answers: list[dict[str, Any] | None] = [None] * len(requests)
        retried = False
        with self._lock:
            while True:
                todo = [i for i, answer in enumerate(answers) if answer is None]
                if not todo:
                    break
                process = self._running()
                try:
                    self._send_and_collect(process, requests, paths, todo, answers)
                except _NodeDied as died:
                    process.kill()
                    tail = process.stderr_tail()
                    self._process = None
                    if retried:
                        raise CheckerUnavailable(
                            f"node died twice, the second time while checking {died}"
                            + (f": {tail}" if tail else "")
                        ) from None
                    retried = True
        return [answer for answer in answers if answer is not None]

    def _send_and_collect(
        self,
        process: _NodeProcess,
        requests: list[dict[str, Any]],
        paths: list[Path],
        todo: list[int],
        answers: list[dict[str, Any] | None],
    ) -> None:
        index_of: dict[int, int] = {}
        lines: list[bytes] = []
        for i in todo:
            request_id = process.new_id()
            index_of[request_id] = i
            lines.append(json.dumps({"id": request_id, **requests[i]}).encode("ascii") + b"\n")
        data = b"".join(lines)
        if len(data) <= INLINE_WRITE_LIMIT:
            process.write(data)
        else:
            # A big batch would fill the pipe while node waits for its answers to be
            # read: write from a thread and read here at the same time.
            threading.Thread(target=process.write, args=(data,), daemon=True).start()

        waiting = set(index_of)
        while waiting:
            try:
                message = process.answers.get(timeout=self._timeout)
            except queue.Empty:
                # node answers in order, so the oldest unanswered file is the one it is stuck on.
                stuck = paths[index_of[min(waiting)]]
                process.kill()
                self._process = None
                raise CheckerUnavailable(
                    f"node gave no answer within {self._timeout:g} s while checking {stuck}"
                ) from None
            if message is _EOF:
                raise _NodeDied(paths[index_of[min(waiting)]])
            request_id = message.get("id")
            if request_id not in waiting:
                continue  # a late answer to an abandoned exchange
            waiting.discard(request_id)
            i = index_of[request_id]
            if message.get("internal"):
                raise CheckerUnavailable(
                    f"js_check.cjs failed on {paths[i]}: {message.get('message')}"
                )
            answers[i] = message

    def _finding(self, path: Path, answer: dict[str, Any]) -> Finding | None:
        if answer.get("ok"):
            return None
        return Finding(
            path=path,
            language=self.language,
            line=answer.get("line"),
            column=answer.get("column"),
            message=str(answer.get("message") or "SyntaxError"),
        )


def _utf16_offsets(text: str):
    """Code point offset -> UTF-16 offset (what JavaScript strings index by)."""
    if text.isascii():
        return lambda offset: offset
    prefix = [0]
    for char in text:
        prefix.append(prefix[-1] + (2 if ord(char) > 0xFFFF else 1))
    return lambda offset: prefix[offset]


def _code_point_offsets(text: str):
    """UTF-16 offset -> code point offset (the inverse of _utf16_offsets)."""
    if text.isascii():
        return lambda offset: offset
    starts: list[int] = []
    for index, char in enumerate(text):
        starts.append(index)
        if ord(char) > 0xFFFF:
            starts.append(index)
    starts.append(len(text))
    return lambda offset: starts[min(offset, len(starts) - 1)]


def _utf8_safe(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
