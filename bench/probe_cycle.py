"""How long Layer 1 costs a cycle: probes run concurrently, each bounded by its timeout.

Run:  .venv/bin/python bench/probe_cycle.py

1. The shipped config.toml's eleven probes (seed 003's components), in-process, as
   they run on this machine: median of 5 runs.
2. 20 probes against loopback, 10 of them hanging on a server that accepts and never
   answers (timeout_seconds = 2), 10 refused: the probe phase costs about one timeout,
   where running them one after another would cost the sum.
3. The whole `mechanic probe` command on the shipped config, as a subprocess.

A benchmark, not a test: it prints numbers and asserts nothing.
"""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mechanic.config.load import load_config  # noqa: E402
from probes.runner import run_probes  # noqa: E402


def timed(fn, runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        started = time.monotonic()
        fn()
        samples.append(time.monotonic() - started)
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="mechanic-bench-"))
    try:
        (work / "demo-workspace").mkdir()
        shutil.copy(REPO / "config.toml", work / "config.toml")
        shipped = load_config(work / "config.toml")
        results = run_probes(shipped.probes)
        shipped_s = timed(lambda: run_probes(shipped.probes))
        statuses = ", ".join(f"{r.name}={r.status}" for r in results)

        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        port = silent.getsockname()[1]
        tables = []
        for i in range(10):
            tables.append(
                f'[[probe]]\nname = "hang{i}"\ntype = "http"\n'
                f'url = "http://127.0.0.1:{port}/"\ntimeout_seconds = 2\n'
            )
            tables.append(f'[[probe]]\nname = "refused{i}"\ntype = "tcp"\nport = {free_port()}\n')
        text = (work / "config.toml").read_text().split("[[probe]]")[0] + "\n".join(tables)
        (work / "hang.toml").write_text(text)
        hanging = load_config(work / "hang.toml")
        hang_s = timed(lambda: run_probes(hanging.probes), runs=3)
        silent.close()

        command = [sys.executable, "-m", "mechanic", "probe", "--config", str(work / "config.toml")]
        cli_s = timed(lambda: subprocess.run(command, capture_output=True, check=False), runs=3)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"shipped config, 11 probes, in-process (median of 5): {shipped_s * 1000:7.1f} ms")
    print(f"  {statuses}")
    print(
        f"20 probes, 10 hanging (timeout 2 s) + 10 refused (median of 3): {hang_s:5.2f} s"
        f"  (one after another: >= {10 * 2} s)"
    )
    print(f"`mechanic probe` on the shipped config, whole process (median of 3): {cli_s:5.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
