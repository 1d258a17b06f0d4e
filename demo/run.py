"""`make demo`: one real mechanic cycle on a throwaway workspace, with the
shipped config.toml and the embedded model (no Ollama server needed).

It copies config.toml into .demo/ (relative paths resolve against the
config's folder, so state and backups land there too), writes a few files,
some broken, runs `mechanic once`, and shows what happened to each file.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / ".demo"

FILES = {
    # Seed 003's own example: an extra closing paren.
    "worker.js": """\
const fs = require('fs');

function processData(input) {
  // BUG: extra closing paren
  const result = [1,2,3].map(x => x * 2));
  return result;
}

module.exports = { processData };
""",
    # A missing colon.
    "report.py": """\
def report(rows):
    for row in rows
        print(row)
""",
    # Four faults at once: more than the zero-token rung's two edits, so the model is asked.
    "stats.py": "def mean(values\n    total = sum(values\n    return total / len(values\n",
    # Broken too, but protected by the shipped config: never sent, never written.
    "core.js": "function tick( {\n  return 1;\n}\nmodule.exports = { tick };\n",
    "healthy.py": "def ok():\n    return True\n",
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def main() -> int:
    shutil.rmtree(DEMO, ignore_errors=True)
    workspace = DEMO / "demo-workspace"
    workspace.mkdir(parents=True)
    shutil.copy(REPO / "config.toml", DEMO / "config.toml")
    before = {}
    for name, text in FILES.items():
        (workspace / name).write_text(text)
        before[name] = digest(workspace / name)

    print(f"workspace {workspace}: {', '.join(FILES)}\n")
    mechanic = [sys.executable, "-m", "mechanic"]
    config = ["--config", str(DEMO / "config.toml")]
    done = subprocess.run([*mechanic, "once", "-q", *config], check=False)
    if done.returncode not in (0, 1):
        return done.returncode

    print("\nwhat happened to each file:")
    for name in FILES:
        path = workspace / name
        after = digest(path)
        verdict = "unchanged (byte-identical)" if after == before[name] else "repaired"
        print(f"  {name:<11} {before[name]} -> {after}  {verdict}")
    print(
        "\nreport.py and worker.js were fixed by the zero-token rung (one small token edit,"
        "\nno model). stats.py has four faults, so it went to the model. The embedded"
        "\nSmolLM2-135M is tiny and rarely right; every answer was validated,"
        "\nand a file is only written when the fix passes its checker. Point [llm] at"
        "\nOllama with a coder model (see README) for real repairs."
    )
    print("\nmechanic status:")
    subprocess.run([*mechanic, "status", *config], check=False)
    print(f"\nlog: {sys.executable} -m mechanic log --config {DEMO / 'config.toml'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
