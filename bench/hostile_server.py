"""What a hostile model server costs a cycle: each one ends within timeout_seconds + 2 s.

Run:  .venv/bin/python bench/hostile_server.py

For each way the loopback Ollama stand-in (tests/support/ollama_standin.py) can misbehave
once it has the prompt (trickle a byte per 1.5 s, stall after the headers, send the
headers a byte at a time, drop the connection mid-body, answer invalid JSON, a 500),
one real `mechanic once` with `timeout_seconds = 3` on three broken files. It prints
the model request's recorded duration, the cycle's (from `status --json`: the store's
started/finished times, which include loading the client library), and the whole
process's wall time (Python start included).

A benchmark, not a test: it prints numbers and asserts nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.ollama_standin import HOSTILE_MODES, OllamaStandIn, Reply  # noqa: E402

TIMEOUT = 3
BROKEN = "def total(items):\n    return sum(items\n\nprint(total([1, 2]))\n"
FIXED = BROKEN.replace("sum(items\n", "sum(items)\n")


def mechanic(work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MECHANIC_CONFIG", None)
    command = [sys.executable, "-m", "mechanic", *args, "--config", str(work / "config.toml")]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def short(reason: str, url: str) -> str:
    """The attempt's reason without the words every case shares."""
    reason = reason.replace(f": the prompt was sent to Ollama at {url};", ";")
    reason = reason.replace(f"the prompt was sent, then Ollama at {url} ", "sent, then ")
    return reason if len(reason) <= 100 else reason[:99] + "…"


def one(mode: str, reply: Reply) -> str:
    with (
        tempfile.TemporaryDirectory(prefix="mechanic-hostile-") as folder,
        OllamaStandIn() as ollama,
    ):
        work = Path(folder)
        (work / "src").mkdir()
        for name in ("a.py", "b.py", "c.py"):
            (work / "src" / name).write_text(BROKEN)
        (work / "config.toml").write_text(
            '[mechanic]\nstate_dir = "state"\nbackup_dir = "backups"\n'
            f'[llm]\nbackend = "ollama"\nhost = "{ollama.url}"\ntimeout_seconds = {TIMEOUT}\n'
            '[repair]\ndeterministic = false\n[[watch]]\npath = "src"\n'
        )
        ollama.reply(reply)
        started = time.monotonic()
        done = mechanic(work, "once", "--json")
        wall = time.monotonic() - started
        report = json.loads(done.stdout)
        [sent] = [a for a in report["attempts"] if a["tokens"] is not None]
        cycle = json.loads(mechanic(work, "status", "--json").stdout)["last_cycle"]
        cycle_s = cycle["seconds"]
        requests = len(ollama.inference_requests)
        return (
            f"| {mode} | {sent['seconds']:.2f} s | {cycle_s:.2f} s | {wall:.2f} s | {requests} |"
            f" {short(sent['reason'], ollama.url)} |"
        )


def main() -> int:
    cases = [(m, Reply(FIXED, hostile=m)) for m in HOSTILE_MODES]
    cases.append(("500 after the prompt", Reply(status=500, error="CUDA error: out of memory")))
    print(f"timeout_seconds = {TIMEOUT}, 3 broken files, {os.cpu_count()} cores")
    print("| server | model request | cycle | process | requests sent | the attempt's reason |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for mode, reply in cases:
        print(one(mode, reply), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
