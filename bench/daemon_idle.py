"""What `mechanic run` costs while idle: resident memory and CPU, watching 10,000 files.

Run:  .venv/bin/python bench/daemon_idle.py [--files N] [--seconds S] [--watcher auto|polling]

1. Writes N small, valid Python and JavaScript files (70/30) into 200 folders of a
   temporary tree, and a config that watches it (interval 10 min, quiet 120 s, Ollama
   as the backend; nothing is broken, so no model is ever asked).
2. Starts `mechanic run` as a subprocess and waits for its first cycle (a cold check of
   every file) to finish, then 5 s more for it to settle.
3. Measures the process with psutil for S seconds (60): CPU time used over the window
   as a share of one core, and resident memory (RSS) sampled every second.
4. Stops it with SIGTERM and prints one line per watcher mode measured.

Targets: RSS <= 80 MB, CPU <= 1 % of one core. A benchmark, not a test: it asserts
nothing and exits 0 unless it could not run at all.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
FOLDERS = 200
RSS_TARGET_MB = 80
CPU_TARGET_PERCENT = 1.0

PY = 'def handler_{n}(event):\n    """Handle event {n}."""\n    return {{"id": {n}, **event}}\n'
JS = "function handler{n}(event) {{\n  return Object.assign({{ id: {n} }}, event);\n}}\n"
JS += "module.exports = {{ handler{n} }};\n"


def make_tree(root: Path, files: int, broken: int = 0) -> None:
    for n in range(broken):  # the backend is then loaded (and fails: nothing listens)
        folder = root / "src" / "broken"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"broken{n}.py"
        path.write_text("def f(:\n    pass\n")
        past = time.time() - 3600  # broken long ago: not held by the quiet period
        os.utime(path, (past, past))
    for n in range(files - broken):
        folder = root / "src" / f"pkg{n % FOLDERS:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        if n % 10 < 7:
            (folder / f"mod{n}.py").write_text(PY.format(n=n))
        else:
            (folder / f"mod{n}.js").write_text(JS.format(n=n))


def write_config(root: Path, watcher: str) -> Path:
    config = root / "config.toml"
    config.write_text(
        "[mechanic]\n"
        'state_dir = "state"\nbackup_dir = "backups"\n'
        "interval_minutes = 10\nquiet_seconds = 120\n"
        f'file_watcher = "{watcher}"\n'
        "[llm]\n"
        'backend = "ollama"\nhost = "http://127.0.0.1:9"\n'
        "[[watch]]\n"
        'path = "src"\n'
    )
    return config


def first_cycle_seconds(log: Path, proc: subprocess.Popen, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"mechanic run exited with {proc.returncode}")
        if log.exists():
            for line in log.read_text().splitlines():
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if event.get("event") == "cycle.done":
                    return float(event["seconds"])
        time.sleep(0.5)
    raise SystemExit(f"no first cycle within {timeout} s")


def measure(root: Path, watcher: str, seconds: float) -> dict[str, object]:
    config = write_config(root, watcher)
    state = root / "state"
    shutil.rmtree(state, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with open(root / f"daemon-{watcher}.out", "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mechanic", "run", "--config", str(config)],
            cwd=root,
            env=env,
            stdout=out,
            stderr=out,
        )
        try:
            cycle = first_cycle_seconds(state / "mechanic.log", proc, timeout=600)
            time.sleep(5)
            process = psutil.Process(proc.pid)
            kind = json.loads((state / "daemon.json").read_text())["watcher"]
            threads = process.num_threads()
            before = process.cpu_times()
            started = time.monotonic()
            rss: list[int] = []
            while time.monotonic() - started < seconds:
                rss.append(process.memory_info().rss)
                time.sleep(1)
            after = process.cpu_times()
            elapsed = time.monotonic() - started
            used = (after.user - before.user) + (after.system - before.system)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
    return {
        "watcher": kind,
        "first_cycle_s": cycle,
        "threads": threads,
        "rss_mb_last": rss[-1] / 2**20,
        "rss_mb_max": max(rss) / 2**20,
        "cpu_percent": 100 * used / elapsed,
        "seconds": elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--broken",
        type=int,
        default=0,
        help="files that fail to parse, so the first cycle loads the model client too",
    )
    parser.add_argument(
        "--watcher", choices=["auto", "polling"], action="append", help="default: both"
    )
    args = parser.parse_args()
    modes = args.watcher or ["auto", "polling"]
    root = Path(tempfile.mkdtemp(prefix="mechanic-idle-"))
    try:
        make_tree(root, args.files, args.broken)
        print(
            f"mechanic run, idle, watching {args.files:,} files in {FOLDERS} folders"
            f" ({args.broken} broken), measured for {args.seconds:g} s after the first cycle"
            f" (Python {sys.version.split()[0]}, {os.cpu_count()} cores)"
        )
        header = ("watcher", "first cycle", "threads", "RSS MB", "max", "CPU %")
        print("{:<9} {:>12} {:>8} {:>8} {:>7} {:>7}".format(*header))
        for mode in modes:
            row = measure(root, mode, args.seconds)
            print(
                f"{row['watcher']:<9} {row['first_cycle_s']:>10.1f} s {row['threads']:>8}"
                f" {row['rss_mb_last']:>8.1f} {row['rss_mb_max']:>7.1f} {row['cpu_percent']:>7.2f}",
                flush=True,
            )
        print(f"targets: RSS <= {RSS_TARGET_MB} MB, CPU <= {CPU_TARGET_PERCENT:g} % of one core")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
