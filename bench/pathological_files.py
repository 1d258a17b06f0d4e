"""How long one cycle takes on files built to make a cycle slow.

Run:  .venv/bin/python bench/pathological_files.py            # every case
      .venv/bin/python bench/pathological_files.py --only py-lines-40k --profile

Each case is one broken file, alone in a fresh watch root, through a whole
`mechanic once` (a subprocess: interpreter start, scan, static analysis, the
zero-token rung, the transaction) with `backend = "none"`, so no model step is
timed. The files are repetitive lines (the 40,000-line `x = 1` case that took
116 s, and 1 MB of them), deep nesting (`x = ` and 100,000 `(`, and 1 MB of
brackets) and one giant 1 MB line, in Python and JavaScript. Target: <= 5 s
each on a 2-core machine. Wall time depends on what else the machine runs, so
the cycle's CPU time (user + system, of the `mechanic` process and its node
checker) is printed too. `--profile` runs the cycle in-process under cProfile
instead and prints where the time went. mechanic's modules are byte-compiled once
first (into a temporary cache, as `pip install` does), so that each case does not
also time compiling mechanic's own source (about 0.3 s when PYTHONDONTWRITEBYTECODE
is set, as on the CI machine).

Then the steps that follow a model's answer, whose cost depends on the file, are
timed in-process on each repetitive file with its one broken line fixed: the
re-encoding in the file's own format (textfile.encode, where the 40,000-line
case spent its 116 s), the fix's diff, the changed region and the answer's
scope check.

A benchmark, not a test: it prints numbers and asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MB = 1_000_000  # under max_file_kb's default 1,024 KiB

CASES: dict[str, tuple[str, str]] = {
    # name: (file name, content)
    # Small enough for the zero-token rung to fix: the write path (re-encoding, static
    # check, transaction, diff) on a repetitive file.
    "py-lines-10k": ("app.py", "x = 1\n" * 10_000 + "def main(:\n    pass\n"),
    "py-lines-40k": ("app.py", "x = 1\n" * 40_000 + "def main(:\n    pass\n"),
    "py-lines-1mb": ("app.py", "x = 1\n" * (MB // 6) + "def main(:\n    pass\n"),
    "py-parens-100k": ("app.py", "x = " + "(" * 100_000 + "\n"),
    "py-nesting-1mb": ("app.py", "x = " + "[" * (MB // 2) + "]" * (MB // 2 - 1) + "\n"),
    "py-blocks-1mb": (
        "app.py",
        "".join(
            "".join("    " * d + f"if x{d}:\n" for d in range(90)) + "    " * 90 + "pass\n"
            for _ in range(MB // 20_000)
        )
        + "def main(:\n    pass\n",
    ),
    "py-one-line-1mb": ("app.py", "x = [" + "1, " * (MB // 3) + "\n"),
    "js-lines-10k": ("app.js", "let x = 1;\n" * 10_000 + "function main( {\n}\n"),
    "js-lines-40k": ("app.js", "let x = 1;\n" * 40_000 + "function main( {\n}\n"),
    "js-lines-1mb": ("app.js", "x = 1;\n" * (MB // 7) + "function main( {\n}\n"),
    "js-parens-100k": ("app.js", "x = " + "(" * 100_000 + "\n"),
    "js-nesting-1mb": ("app.js", "x = " + "[" * (MB // 2) + "]" * (MB // 2 - 1) + ";\n"),
    "js-blocks-1mb": (
        "app.js",
        "".join("if (x) {\n" * 200 + "}\n" * 200 for _ in range(MB // 3_600))
        + "function main( {\n}\n",
    ),
    "js-one-line-1mb": ("app.js", "x = [" + "1, " * (MB // 3) + ";\n"),
}


def workspace(folder: Path, name: str, content: str) -> Path:
    (folder / "src").mkdir()
    (folder / "src" / name).write_text(content)
    config = folder / "config.toml"
    config.write_text(
        '[mechanic]\nstate_dir = "state"\nbackup_dir = "backups"\n'
        '[llm]\nbackend = "none"\n[[watch]]\npath = "src"\n'
    )
    return config


def installed_env(cache: Path) -> dict[str, str]:
    """The environment of each case: mechanic from this checkout, byte-compiled once
    into `cache` (an installed mechanic has its .pyc files)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(REPO), PYTHONPYCACHEPREFIX=str(cache))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "mechanic"), str(REPO / "probes")],
        env=env,
        check=True,
    )
    return env


def run_case(
    name: str, profile: bool, limit: float, env: dict[str, str]
) -> tuple[float, float, str]:
    file_name, content = CASES[name]
    with tempfile.TemporaryDirectory(prefix="mechanic-bench-") as tmp:
        config = workspace(Path(tmp), file_name, content)
        if profile:
            sys.path.insert(0, str(REPO))
            from mechanic.cli.main import main

            profiler = cProfile.Profile()
            started = time.monotonic()
            profiler.runcall(main, ["once", "--config", str(config)])
            seconds = time.monotonic() - started
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            return seconds, seconds, "profiled"
        started, cpu = time.monotonic(), _children_cpu()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "mechanic", "once", "--json", "--config", str(config)],
                capture_output=True,
                text=True,
                cwd=tmp,
                env=env,
                timeout=limit,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return time.monotonic() - started, _children_cpu() - cpu, f"TIMED OUT after {limit:g} s"
        seconds, cpu = time.monotonic() - started, _children_cpu() - cpu
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return seconds, cpu, f"exit {done.returncode}: {done.stderr.strip()[-200:]}"
    attempts = report.get("attempts", [])
    outcome = attempts[0]["outcome"] if attempts else "no attempt (left for a model)"
    return seconds, cpu, f"exit {done.returncode}, {outcome}"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_steps() -> None:
    """The answer-side steps on each repetitive file, its broken line fixed."""
    sys.path.insert(0, str(REPO))
    from mechanic.repair.answer import review
    from mechanic.repair.baseline import changed_region
    from mechanic.write.textfile import decode, encode
    from mechanic.write.transaction import unified_diff

    fixes = {"py": ("def main(:", "def main():"), "js": ("function main( {", "function main() {")}
    print(f"\n{'steps on':<18} {'encode':>8} {'diff':>8} {'region':>8} {'scope':>8}  (seconds)")
    for name in [n for n in CASES if "-lines-" in n]:
        file_name, content = CASES[name]
        broken, fixed = fixes[name[:2]]
        language = "python" if name.startswith("py") else "javascript"
        text, fmt = decode(content.encode(), language)
        answer = text.replace(broken, fixed)
        took = []
        for step, *args in (
            (encode, answer, fmt),
            (unified_diff, Path(file_name), content.encode(), answer.encode()),
            (changed_region, answer.split("\n"), text.split("\n")),
            (review, answer, text),
        ):
            started = time.monotonic()
            step(*args)
            took.append(time.monotonic() - started)
        print(f"{name:<18} " + " ".join(f"{t:>8.3f}" for t in took), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=sorted(CASES), help="repeatable")
    parser.add_argument("--profile", action="store_true", help="in-process, under cProfile")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per case (120)")
    args = parser.parse_args()
    names = args.only or list(CASES)
    print(f"{'cycle on':<18} {'size':>10} {'wall s':>7} {'cpu s':>7}  result")
    with tempfile.TemporaryDirectory(prefix="mechanic-pyc-") as cache:
        env = installed_env(Path(cache))
        for name in names:
            seconds, cpu, result = run_case(name, args.profile, args.timeout, env)
            size = len(CASES[name][1].encode())
            print(f"{name:<18} {size:>10,} {seconds:>7.2f} {cpu:>7.2f}  {result}", flush=True)
    if not args.profile and not args.only:
        time_steps()


if __name__ == "__main__":
    main()
