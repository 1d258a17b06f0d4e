"""What runtime errors from logs and validation by tests cost a cycle.

Run:  .venv/bin/python bench/signals.py [--log-mb N] [--files N]

1. Log tailing: writes a PM2-style error log of real node and python crash output
   (traces between lines of ordinary noise, as a crash loop writes them) appended in one
   go after a first cycle, then times errorlog.collect() on that cycle and on the next
   one, when nothing was appended.
2. Validation by tests: a project of --files small Python modules plus a pytest suite;
   times one FixValidator call (copy, baseline run, copy, run with the fix) and the copy
   alone.

Prints the numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mechanic.config.load import load_config  # noqa: E402
from mechanic.detect.discovery import Finder  # noqa: E402
from mechanic.detect.errorlog import collect  # noqa: E402
from mechanic.repair.runtests import FixValidator, copy_tree  # noqa: E402
from mechanic.store import Store  # noqa: E402


def crash_output(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return done.stderr


def bench_log(base: Path, megabytes: int) -> None:
    src = base / "src"
    src.mkdir()
    logs = base / "logs"
    logs.mkdir()
    worker = src / "worker.js"
    worker.write_text("function run(n) {\n  return missing(n);\n}\nrun(process.argv[2]);\n")
    calc = src / "calc.py"
    calc.write_text("import sys\n\ndef f(n):\n    return n + undefined\n\nf(int(sys.argv[1]))\n")
    node = crash_output(["node", str(worker), "1"])
    python = crash_output([sys.executable, str(calc), "1"])
    (base / "config.toml").write_text(
        '[mechanic]\nstate_dir = "state"\n[llm]\nbackend = "none"\n'
        '[[watch]]\npath = "src"\n[[errorlog]]\npath = "logs/*-error.log"\n'
    )
    log = logs / "app-error.log"
    log.write_text("app started\n")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")  # PM2 --time prefixes, local time
    noise = f"{stamp}: request handled in 12 ms, cache hit ratio 0.93\n" * 40
    config = load_config(base / "config.toml")
    finder = Finder(config)
    with Store.open(config.mechanic.state_dir) as store:
        collect(config, store, finder)  # first sight: nothing yet
        count = 0
        with open(log, "a") as handle:  # then a crash loop appends megabytes
            while handle.tell() < (megabytes << 20) - 64 * 1024:
                handle.write(noise)
                handle.write(f"{stamp}: " + (node, python)[count % 2])
                count += 1
        size = log.stat().st_size
        started = time.perf_counter()
        found = collect(config, store, finder)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        collect(config, store, finder)
        warm = time.perf_counter() - started
        rows = store.runtime_errors(active_only=False)
    print(f"log: {size / 1e6:.1f} MB appended in one cycle, {count} traces")
    print(
        f"  that cycle:   {cold:.2f} s ({size / 1e6 / cold:.1f} MB/s, {count / cold:.0f} traces/s)"
    )
    print(f"  next cycle:   {warm * 1000:.1f} ms (nothing appended)")
    print(
        f"  findings:     {len(found.findings)}, signatures {len(rows)},"
        f" counts {sorted(r.count for r in rows)}"
    )


def bench_validation(base: Path, files: int) -> None:
    root = base / "project"
    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    for index in range(files):
        (root / "pkg" / f"mod{index}.py").write_text(f"def value():\n    return {index}\n")
    (root / "pkg" / "__init__.py").write_text("")
    tests = "\n".join(
        f"def test_{i}():\n    from pkg.mod{i} import value\n    assert value() == {i}\n"
        for i in range(min(files, 50))
    )
    (root / "tests" / "test_mods.py").write_text(tests)
    from mechanic.config.settings import WatchRoot

    target = (root / "pkg" / "mod0.py").resolve()
    watch = WatchRoot(
        root,
        ("**/*.py",),
        (),
        test_cmd=(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
    )
    started = time.perf_counter()
    copy_tree(root, base / "copy")
    copy = time.perf_counter() - started
    validator = FixValidator(watch, target)
    started = time.perf_counter()
    problem = validator(b"def value():\n    return 0  # same\n")
    total = time.perf_counter() - started
    runs = ", ".join(f"{r.name} {r.seconds:.2f} s" for r in validator.runs)
    print(f"validation: {files} modules, {min(files, 50)} pytest tests")
    print(f"  copy of the root:       {copy * 1000:.0f} ms")
    print(f"  one validated fix:      {total:.2f} s  (runs: {runs})")
    print(f"  verdict:                {problem or validator.summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log-mb", type=int, default=8)
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "log").mkdir()
        (Path(folder) / "val").mkdir()
        bench_log(Path(folder) / "log", args.log_mb)
        bench_validation(Path(folder) / "val", args.files)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
