"""The hostile-server suite: a model server that misbehaves once mechanic sent its prompt.

Each case runs the real `mechanic once` against the loopback stand-in with
`timeout_seconds = 3`. Whatever the server does, the model request ends within the
timeout plus 2 s (its recorded duration), the broken file keeps its bytes, and the
attempt says what happened (timed out and after how long, dropped mid-answer, Ollama's
own HTTP error, invalid JSON), never "cannot reach Ollama": the prompt was sent.
bench/hostile_server.py measures whole cycles against the same servers.
"""

from __future__ import annotations

import os
import re
import socket
import time

import pytest

from tests.support.daemon_process import DaemonProcess
from tests.support.model_user import UserConfig
from tests.support.ollama_standin import Reply

TIMEOUT = 3
SLACK = 2  # the measure: a model request ends within timeout_seconds + 2 s
# Only for the subprocess's own bound (starting Python and mechanic on a loaded 2-core
# machine): a server mechanic cannot cut off makes the test fail here instead of hanging.
START_ALLOWANCE = 20

BROKEN_PY = "def total(items):\n    return sum(items\n\nprint(total([1, 2]))\n"
FIXED_PY = "def total(items):\n    return sum(items)\n\nprint(total([1, 2]))\n"
TIMED_OUT = rf"^timed out after \d+\.\d s \(llm\.timeout_seconds = {TIMEOUT}\): the prompt was sent"

CASES = {
    "trickle": (
        Reply(FIXED_PY, hostile="trickle"),
        [TIMED_OUT, r"its answer had begun \(HTTP 200\) but not finished"],
    ),
    "stall-after-headers": (
        Reply(FIXED_PY, hostile="stall_after_headers"),
        [TIMED_OUT, r"its answer had begun \(HTTP 200\) but not finished"],
    ),
    "slow-headers": (
        Reply(FIXED_PY, hostile="slow_headers"),
        [TIMED_OUT, r"no answer \(not even its headers\) came"],
    ),
    "drop-mid-body": (
        Reply(FIXED_PY, hostile="drop_mid_body"),
        [r"^the prompt was sent, then Ollama at \S+ dropped the connection mid-answer"],
    ),
    "invalid-json": (
        Reply(FIXED_PY, hostile="invalid_json"),
        [r"^the prompt was sent, then Ollama at \S+ answered with invalid JSON: Expecting"],
    ),
    "500-after-prompt": (
        Reply(status=500, error="CUDA error: out of memory"),
        [r"^the prompt was sent, then Ollama at \S+ answered HTTP 500: CUDA error: out of memory$"],
    ),
}


@pytest.fixture
def user_config():
    return UserConfig(timeout_seconds=TIMEOUT)


def run_once(user):
    result = user.run("once", "--json", timeout=TIMEOUT + SLACK + START_ALLOWANCE)
    assert result.returncode == 1, result.stderr  # the file is still broken, and nothing crashed
    return result


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_server_costs_at_most_the_timeout_and_changes_nothing(user, case):
    reply, patterns = CASES[case]
    path = user.file("calc.py", BROKEN_PY)
    user.ollama.reply(reply)
    result = run_once(user)
    attempt = result.attempts()["calc.py"]
    assert path.read_bytes() == BROKEN_PY.encode()
    assert user.backups_of("calc.py") == []
    assert attempt["outcome"] == "skipped"
    assert attempt["tokens"] is not None  # on the record as sent
    for pattern in patterns:
        assert re.search(pattern, attempt["reason"]), attempt["reason"]
    assert "not asked" not in attempt["reason"] and "cannot reach" not in attempt["reason"]
    assert attempt["seconds"] <= TIMEOUT + SLACK
    assert result.json["backend_error"] == attempt["reason"]
    assert len(user.ollama.inference_requests) == 1
    status = user.run("status", "--json").json
    assert status["recent_attempts"][0]["reason"] == attempt["reason"]


def test_after_a_sent_prompt_fails_the_rest_of_the_cycle_is_not_sent(user):
    """One timeout per cycle, not one per broken file."""
    for name in ("a.py", "b.py", "c.py"):
        user.file(name, BROKEN_PY)
    user.ollama.reply(Reply(FIXED_PY, hostile="trickle"))
    result = run_once(user)
    attempts = result.json["attempts"]
    assert len(attempts) == 3
    assert len(user.ollama.inference_requests) == 1
    [sent] = [a for a in attempts if a["tokens"] is not None]
    assert re.search(TIMED_OUT, sent["reason"])
    for other in attempts:
        if other is not sent:
            assert other["reason"].startswith("model not asked after a failed request: timed out")
            assert other["tokens"] is None
    for name in ("a.py", "b.py", "c.py"):
        assert (user.src / name).read_text() == BROKEN_PY


def test_a_refused_connection_is_recorded_as_not_asked(workspace):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    workspace.write_config(
        llm={"backend": "ollama", "host": f"http://127.0.0.1:{port}", "timeout_seconds": TIMEOUT}
    )
    path = workspace.file("calc.py", BROKEN_PY)
    result = run_once(workspace)
    attempt = result.attempts()["calc.py"]
    assert attempt["tokens"] is None
    assert attempt["reason"].startswith(
        f"model not asked: cannot reach Ollama at http://127.0.0.1:{port}"
    )
    assert "Connection refused" in attempt["reason"]
    assert path.read_bytes() == BROKEN_PY.encode()


def test_the_daemon_lets_go_of_the_cycle_lock_when_a_trickle_is_cut_off(user):
    """In `mechanic run` the cycle lock outlives no request: `once` can run right after."""
    path = user.file("calc.py", BROKEN_PY)
    past = time.time() - 3600  # broken before the daemon started: its first cycle takes it
    os.utime(path, (past, past))
    user.write_config(
        mechanic={"interval_minutes": 60, "quiet_seconds": 1},
        llm={"backend": "ollama", "host": user.ollama.url, "timeout_seconds": TIMEOUT},
    )
    user.ollama.reply(Reply(FIXED_PY, hostile="trickle"))
    daemon = DaemonProcess(user)
    try:
        skipped = daemon.wait_for("repair.skipped", timeout=TIMEOUT + SLACK + START_ALLOWANCE)
        assert re.search(TIMED_OUT, skipped["reason"])
        daemon.wait_for("cycle.done", timeout=SLACK + START_ALLOWANCE)
        second = user.run("once", "--json", timeout=TIMEOUT + SLACK + START_ALLOWANCE)
        assert "another mechanic cycle is running" not in second.stderr
        assert second.returncode == 1, second.stderr  # it ran: the file is still broken
        assert daemon.proc.poll() is None
    finally:
        daemon.close()
    assert path.read_bytes() == BROKEN_PY.encode()
