"""`mechanic once` end to end, as a subprocess, against a loopback Ollama stand-in.

Each test is one thing a user would see: what happened to their file, what the
command printed and returned, what the model was (or was never) sent.
"""

from __future__ import annotations

import json
import re
import socket

import pytest

from tests.support.ollama_standin import Reply
from tests.support.workspace import once

BROKEN_JS = """\
const fs = require('fs');

function processData(input) {
  // BUG: extra closing paren
  const result = [1,2,3].map(x => x * 2));
  return result;
}

module.exports = { processData };
"""
FIXED_JS = BROKEN_JS.replace("x * 2));", "x * 2);")
BROKEN_PY = "def total(items):\n    return sum(items\n\nprint(total([1, 2]))\n"
FIXED_PY = "def total(items):\n    return sum(items)\n\nprint(total([1, 2]))\n"


def test_a_good_answer_is_applied_and_the_original_backed_up(user):
    path = user.file("worker.js", BROKEN_JS)
    user.ollama.reply(FIXED_JS)
    result = once(user)
    assert result.returncode == 0
    attempt = result.attempts()["worker.js"]
    assert attempt["outcome"] == "applied"
    assert path.read_text() == FIXED_JS
    [backup] = user.backups_of("worker.js")
    assert backup.read_text() == BROKEN_JS
    assert attempt["backup"] == str(backup)
    assert "+  const result = [1,2,3].map(x => x * 2);" in attempt["diff"]
    assert result.json["remaining"] == []


def test_the_request_turns_thinking_off_and_sets_the_context(user):
    user.file("worker.js", BROKEN_JS)
    user.ollama.reply(FIXED_JS)
    once(user)
    [request] = user.ollama.inference_requests
    assert request.json["think"] is False  # top level: inside options Ollama ignores it
    assert "think" not in request.options
    assert request.options["temperature"] == 0.1
    assert request.options["num_ctx"] == 16384
    assert request.json["stream"] is False
    assert request.model == "qwen2.5-coder:7b"
    assert "worker.js" in request.prompt_text
    assert "Unexpected token" in request.prompt_text
    assert BROKEN_JS.strip() in request.prompt_text


def test_tokens_and_duration_are_recorded(user):
    user.file("calc.py", BROKEN_PY)
    user.ollama.reply(Reply(FIXED_PY, prompt_eval_count=321, eval_count=45))
    attempt = once(user).attempts()["calc.py"]
    assert attempt["tokens"] == {"prompt": 321, "answer": 45}
    assert attempt["backend"] == "ollama" and attempt["model"] == "qwen2.5-coder:7b"
    assert attempt["seconds"] >= 0


def test_a_still_broken_answer_leaves_identical_bytes(user):
    original = BROKEN_PY.replace("\n", "\r\n").encode()
    path = user.file("calc.py", original)
    user.ollama.reply("def total(items):\n    return sum(items\n")  # as broken as before
    result = once(user)
    assert result.returncode == 1
    attempt = result.attempts()["calc.py"]
    assert attempt["outcome"] == "reverted"
    assert path.read_bytes() == original
    assert [r["file"] for r in result.json["remaining"]] == [str(path)]


@pytest.mark.parametrize(
    ("reply", "outcome", "words"),
    [
        (Reply(""), "rejected", "no code"),
        (Reply(FIXED_PY, done_reason="length"), "rejected", "cut off"),
        (Reply(f"Here is the fix:\n```python\n{FIXED_PY}```\n"), "applied", "passes"),
        (Reply(f"<think>line 2 lacks a paren</think>\n{FIXED_PY}"), "applied", "passes"),
        (
            Reply("def total(items):\n    return sum(items)\n\n# ... rest of code ...\n"),
            "rejected",
            "placeholder",
        ),
    ],
    ids=["empty", "cut-off", "fenced", "think-tagged", "elided"],
)
def test_answers_are_unwrapped_or_refused(user, reply, outcome, words):
    path = user.file("calc.py", BROKEN_PY)
    user.ollama.reply(reply)
    attempt = once(user).attempts()["calc.py"]
    assert attempt["outcome"] == outcome
    assert words in attempt["reason"]
    assert path.read_text() == (FIXED_PY if outcome == "applied" else BROKEN_PY)


def test_a_model_that_does_not_answer_in_time_changes_nothing(user):
    user.write_config(
        llm={"backend": "ollama", "host": user.ollama.url, "timeout_seconds": 1},
    )
    path = user.file("calc.py", BROKEN_PY)
    user.ollama.reply(Reply(FIXED_PY, delay_seconds=5))
    result = once(user)
    attempt = result.attempts()["calc.py"]
    assert attempt["outcome"] == "skipped"
    assert attempt["reason"].startswith("timed out after 1.")
    assert "(llm.timeout_seconds = 1): the prompt was sent" in attempt["reason"]
    assert path.read_text() == BROKEN_PY
    assert result.returncode == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_is_reported_and_nothing_is_touched(workspace):
    workspace.write_config(
        llm={"backend": "ollama", "host": f"http://127.0.0.1:{free_port()}"},
    )
    path = workspace.file("calc.py", BROKEN_PY)
    result = workspace.run("once", "--json")
    assert result.returncode == 1
    assert "cannot reach Ollama" in result.json["backend_error"]
    assert result.attempts()["calc.py"]["outcome"] == "skipped"
    assert path.read_text() == BROKEN_PY
    human = workspace.run("once")
    assert "cannot reach Ollama" in human.stdout


def test_a_missing_model_says_how_to_get_it_and_touches_nothing(user):
    user.write_config(llm={"backend": "ollama", "host": user.ollama.url, "model": "nope:1b"})
    path = user.file("calc.py", BROKEN_PY)
    result = once(user)
    assert "ollama pull nope:1b" in result.json["backend_error"]
    assert user.ollama.inference_requests == []
    assert path.read_text() == BROKEN_PY
    assert user.backups_of("calc.py") == []


def test_a_server_error_stops_asking_for_the_rest_of_the_cycle(user):
    for name in ("a.py", "b.py"):
        user.file(name, BROKEN_PY)
    user.ollama.reply(Reply(status=500, error="CUDA out of memory"))
    result = once(user)
    assert "CUDA out of memory" in result.json["backend_error"]
    assert len(user.ollama.inference_requests) == 1
    assert {a["outcome"] for a in result.json["attempts"]} == {"skipped"}


def test_a_protected_broken_file_is_never_sent(user):
    core = user.file("lib/core.js", BROKEN_JS.replace("processData", "coreSecretName"))
    user.file("worker.js", BROKEN_JS)
    user.configure(protected=["core.js"])
    user.ollama.reply(FIXED_JS)
    result = once(user)
    assert "worker.js" in result.attempts()
    assert "core.js" not in result.attempts()
    assert all("coreSecretName" not in r.prompt_text for r in user.ollama.requests)
    [held] = result.json["held"]
    assert held["file"] == str(core) and "protected" in held["reason"]
    assert core.read_text() == BROKEN_JS.replace("processData", "coreSecretName")
    assert result.returncode == 1  # core.js is still broken, and the user is told


def test_a_file_attempted_is_not_attempted_again_within_the_cooldown(user):
    user.file("calc.py", BROKEN_PY)
    user.ollama.reply("")
    assert once(user).attempts()["calc.py"]["outcome"] == "rejected"
    second = once(user)
    assert second.json["attempts"] == []
    assert "cooldown" in second.json["held"][0]["reason"]
    assert len(user.ollama.inference_requests) == 1
    status = user.run("status", "--json").json
    assert [c["file"] for c in status["cooldowns"]] == [str(user.src / "calc.py")]


def test_a_cooldown_of_zero_tries_every_cycle(user):
    user.configure(file_cooldown_hours=0)
    user.file("calc.py", BROKEN_PY)
    user.ollama.reply("")
    once(user)
    once(user)
    assert len(user.ollama.inference_requests) == 2


def test_at_most_max_fixes_per_run_files_are_attempted(user):
    user.configure(max_fixes_per_run=2)
    for n in range(5):  # different code each, so no file reuses another's remembered fix
        user.file(f"m{n}.py", BROKEN_PY.replace("total", f"total{n}"))
    user.ollama.respond(
        lambda request: FIXED_PY.replace("total", re.findall(r"total\d", request.prompt)[-1])
    )
    result = once(user)
    assert len(result.json["attempts"]) == 2
    assert len(user.ollama.inference_requests) == 2
    held = [h["reason"] for h in result.json["held"]]
    assert len(held) == 3 and all("max_fixes_per_run" in r for r in held)
    assert len(result.json["remaining"]) == 3


def test_a_person_saving_while_the_model_answers_keeps_their_version(user):
    path = user.file("calc.py", BROKEN_PY)
    mine = "def total(items):\n    return sum(items)  # fixed by hand\n"
    user.ollama.reply(Reply(FIXED_PY, on_request=lambda _req: path.write_text(mine)))
    attempt = once(user).attempts()["calc.py"]
    assert attempt["outcome"] == "skipped"
    assert "changed by someone" in attempt["reason"]
    assert path.read_text() == mine


def test_a_file_too_long_for_the_context_is_not_sent_nor_cut(user):
    user.write_config(
        llm={"backend": "ollama", "host": user.ollama.url, "num_ctx": 1024},
        repair={"mode": "whole", "deterministic": False},
    )
    body = "".join(f"value_{n} = {n}\n" for n in range(400))
    path = user.file("long.py", body + "broken = (\n")
    result = once(user)
    attempt = result.attempts()["long.py"]
    assert attempt["outcome"] == "skipped"
    assert "num_ctx" in attempt["reason"]
    assert user.ollama.inference_requests == []
    assert path.read_text() == body + "broken = (\n"


def test_a_file_longer_than_seed_003s_cut_is_sent_whole(user):
    user.write_config(
        llm={"backend": "ollama", "host": user.ollama.url},
        repair={"mode": "whole", "deterministic": False},
    )
    body = "".join(f"value_{n} = {n}\n" for n in range(800))  # ~11,000 characters
    user.file("long.py", body + "broken = (\n")
    user.ollama.reply(body + "broken = ()\n")
    result = once(user)
    assert result.attempts()["long.py"]["outcome"] == "applied"
    [request] = user.ollama.inference_requests
    assert "value_799 = 799" in request.prompt_text


def test_a_dry_run_asks_nothing_and_writes_nothing(user):
    path = user.file("calc.py", BROKEN_PY)
    result = user.run("once", "--dry-run", "--json")
    assert result.returncode == 1
    assert result.json["attempts"] == []
    assert "dry run" in result.json["held"][0]["reason"]
    assert user.ollama.requests == []
    assert path.read_text() == BROKEN_PY


def test_the_human_summary_names_what_happened(user):
    user.file("worker.js", BROKEN_JS)
    user.ollama.reply(FIXED_JS)
    result = user.run("once")
    assert result.returncode == 0
    assert "applied   worker.js" in result.stdout
    assert "mechanic revert 1" in result.stdout
    assert "nothing left broken" in result.stdout
    assert "repair.applied" in result.stderr  # the log line, on the console


def test_the_log_file_records_one_event_per_step(user):
    user.file("calc.py", BROKEN_PY)
    user.ollama.reply(FIXED_PY)
    once(user)
    events = [line for line in (user.state / "mechanic.log").read_text().splitlines()]
    names = [json.loads(line)["event"] for line in events]
    for step in ("cycle.start", "finding", "repair.ask", "repair.applied", "cycle.done"):
        assert step in names
    readable = user.run("log", "-n", "50")
    assert "repair.applied" in readable.stdout and "calc.py" in readable.stdout


@pytest.mark.parametrize(
    ("name", "source", "dialect"),
    [
        (
            "Button.js",
            "import React from 'react';\n"
            "export function Button({ label }) {\n"
            '  return <button className="b">{label}</button>;\n'
            "}\n",
            "JSX",
        ),
        ("types.js", "export interface Point { x: number }\n", "TypeScript"),
        ("flowed.js", "// @flow\nfunction f(x: number): string { return '' + x; }\n", "Flow"),
    ],
)
def test_a_js_file_in_another_dialect_is_never_rewritten_into_plain_js(user, name, source, dialect):
    path = user.file(name, source)
    user.ollama.reply("module.exports = {};\n")
    result = once(user)
    assert user.ollama.inference_requests == []
    [held] = result.json["held"]
    assert f"looks like {dialect}" in held["reason"]
    assert path.read_text() == source
