"""How well mechanic tells Python 2 files from Python 3 faults (detect/checkers/python2.py).

    python bench/python2_dialect.py [PY2_ROOT] [PY3_ROOT]

PY2_ROOT: a Python 2 tree (default: a pyenv Python 2.7.18 standard library). Each file
Python 3 refuses is judged; a real `python2.7` (when found) says which ones are valid
Python 2. Printed: held (auto), faults (auto), consistent under python = "2", and the
seconds the re-read takes.

PY3_ROOT: Python 3 files (default: this interpreter's standard library, tests left out).
In each file that compiles, one print call is turned into a print statement, or a
stray `print value` line is added: every such file must be judged a fault, not held.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import sysconfig
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mechanic.detect.checkers import python2

PY27 = Path.home() / ".pyenv/versions/2.7.18"


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if p.is_file())


def valid_python2(files: list[Path]) -> dict[str, bool]:
    interpreter = PY27 / "bin/python"
    if not interpreter.exists():
        return {}
    script = (
        "import sys, json\nout = {}\nfor p in sys.stdin.read().split('\\n'):\n"
        "    if not p: continue\n    try:\n        compile(open(p, 'rb').read(), p, 'exec')\n"
        "        out[p] = True\n    except Exception:\n        out[p] = False\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run(
        [str(interpreter), "-c", script],
        input="\n".join(map(str, files)),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def python2_tree(root: Path) -> None:
    files = python_files(root)
    truth = valid_python2(files)
    counts: Counter[str] = Counter()
    seconds = 0.0
    for path in files:
        source = path.read_bytes()
        try:
            compile(source, str(path), "exec", dont_inherit=True)
            continue
        except (SyntaxError, ValueError):
            counts["refused by Python 3"] += 1
        started = time.perf_counter()
        reading = python2.read(source)
        seconds += time.perf_counter() - started
        valid = truth.get(str(path))
        label = {True: "valid Python 2", False: "invalid Python 2", None: "unknown"}[valid]
        auto = reading.verdict() if reading else None
        told = reading.verdict(told=True) if reading else None
        if auto is None:
            counts[f"{label}: a fault under auto"] += 1
        elif reading.remaining is None:
            counts[f"{label}: held under auto"] += 1
        else:
            counts[f"{label}: held as broken in Python 2 too"] += 1
        if told is not None and reading.remaining is None:
            counts[f'{label}: not reported under python = "2"'] += 1
    print(f"Python 2 tree {root}: {len(files)} files")
    for key, value in sorted(counts.items()):
        print(f"  {value:6d}  {key}")
    refused = counts["refused by Python 3"]
    each = 1000 * seconds / max(refused, 1)
    print(f"  re-read: {seconds:.1f} s for {refused} files ({each:.0f} ms each)")


def stray_prints(root: Path) -> None:
    random.seed(3)
    call = re.compile(r"^(\s*)print\(([^()]*)\)\s*$")
    counts: Counter[str] = Counter()
    for path in python_files(root):
        if "test" in path.parts or "site-packages" in path.parts or "lib2to3" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
            compile(text, str(path), "exec", dont_inherit=True)
        except (SyntaxError, ValueError, UnicodeDecodeError):
            continue
        lines = text.splitlines(keepends=True)
        calls = [i for i, line in enumerate(lines) if call.match(line)]
        if calls:
            i = random.choice(calls)
            match = call.match(lines[i])
            lines[i] = f"{match.group(1)}print {match.group(2)}\n"
            kind = "a print call turned into a statement"
        else:
            spots = [i for i, line in enumerate(lines) if re.match(r"\s*(return |\w+ = )", line)]
            if not spots:
                continue
            i = random.choice(spots)
            indent = re.match(r"\s*", lines[i]).group(0)
            lines.insert(i, f"{indent}print value\n")
            kind = "a stray print statement added"
        source = "".join(lines).encode()
        try:
            compile(source, str(path), "exec", dont_inherit=True)
            continue
        except SyntaxError:
            pass
        reading = python2.read(source)
        counts[kind] += 1
        if reading is not None and reading.verdict() is not None:
            counts[f"{kind}: HELD (wrong)"] += 1
    print(f"Python 3 files with one stray print statement, from {root}:")
    for key, value in sorted(counts.items()):
        print(f"  {value:6d}  {key}")


def main() -> None:
    py2_root = Path(sys.argv[1]) if len(sys.argv) > 1 else PY27 / "lib/python2.7"
    py3_root = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(sysconfig.get_paths()["stdlib"])
    if py2_root.is_dir():
        python2_tree(py2_root)
    else:
        print(f"no Python 2 tree at {py2_root}: pass one")
    stray_prints(py3_root)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
