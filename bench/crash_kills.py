"""The kill test at a larger count: SIGKILL `mechanic once` and `mechanic run`
while they repair files through the Ollama stand-in, and count what it proved.

Run:  .venv/bin/python bench/crash_kills.py [--kills N] [--seed S]

It runs tests/write/test_crash.py's `test_killed_commands_leave_every_change_on_the_record`
with N kills for each of once/whole, once/block, run/whole and run/block (the suite
runs 50 each), and prints, per variant, the kills, the files fixed (each found on the
record exactly once), what recovery did, and the time taken. Any file that is neither
its original nor its validated fix, or a changed file without exactly one attempt row,
fails the run and names the seed that reproduces it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=250, help="kills per variant (default 250)")
    parser.add_argument("--seed", type=int, help="seed (default: from the clock)")
    args = parser.parse_args()
    env = {**os.environ, "MECHANIC_CRASH_KILLS": str(args.kills)}
    if args.seed is not None:
        env["MECHANIC_CRASH_SEED"] = str(args.seed)
    started = time.monotonic()
    test = ["tests/write/test_crash.py", "-k", "killed_commands", "--durations=0"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *test],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    lines = [line.lstrip(".") for line in done.stdout.splitlines()]
    results = [line for line in lines if re.match(r"seed \d+: ", line)]
    total = 0
    for line in results:
        print(line)
        total += int(re.search(r": (\d+) kills", line).group(1))
    for line in lines:
        if re.match(r"[\d.]+s call ", line):
            print(line)
    print(f"{total} kills in {elapsed:.0f} s; pytest exit {done.returncode}")
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
