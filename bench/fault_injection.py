"""How well the zero-token rung repairs one injected fault in real files.

Run:  .venv/bin/python bench/fault_injection.py [--files N] [--seed S] [--out DIR]

1. Picks N real Python files (the stdlib and site-packages) and N real JavaScript
   files (`npm root -g`, /usr/share/nodejs, ...), each valid to begin with.
2. Injects one fault per file, chosen with a seeded random generator: a deleted or an
   extra bracket, a missing colon, a missing comma, a dropped quote, a misspelt keyword
   (one transposition or one letter), and for Python a line that lost an indentation
   level. Only faults that really break the file count; another site is drawn otherwise.
3. Writes the broken file into a temporary folder (with the package.json "type" node
   would see for the original) and repairs it exactly as `mechanic once` does with
   backend "none": `rungs.deterministic.search` with the meaning guard judging each
   candidate (`accept`, as the rung passes it; `--no-guard` to compare without), then
   `transaction.apply_fix`.
4. Reports the share of files that parse again, the share restored exactly (same AST
   as the original: Python's ast.dump, acorn's AST without positions for JavaScript),
   the time per file (search + transaction), and files damaged: a file left holding
   bytes that are neither the broken input nor a fix that passes the checker (must be 0).

A benchmark, not a test: it asserts nothing. Same seed, same files, same faults.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_throughput import find_sources, javascript_roots, python_roots

from mechanic.detect.checkers import CheckerSet
from mechanic.detect.checkers.base import Checker
from mechanic.detect.discovery import Guard
from mechanic.repair.guard import meaning
from mechanic.repair.rungs.deterministic.search import search
from mechanic.repair.rungs.deterministic.tokens import CLOSERS, OPENERS, Token, tokenize
from mechanic.write.transaction import apply_fix

PY_KINDS = (
    "deleted bracket",
    "extra bracket",
    "missing colon",
    "missing comma",
    "dropped quote",
    "misspelt keyword",
    "lost indentation",
)
JS_KINDS = PY_KINDS[:-1]
MAX_BYTES = 200_000
TRIES_PER_FILE = 40
TARGETS = {"python": (0.97, 0.90), "javascript": (0.95, 0.85)}
MEDIAN_TARGET_S = 0.2
PY_KEYWORDS = {
    "def", "class", "return", "for", "while", "import", "from", "else", "elif", "try",
    "except", "finally", "with", "lambda", "yield", "raise", "assert", "pass", "break",
    "continue", "global", "not", "and", "del", "async", "await",
}  # fmt: skip
JS_KEYWORDS = {
    "function", "return", "const", "let", "var", "for", "while", "if", "else", "new",
    "typeof", "throw", "try", "catch", "class", "switch", "case", "break", "continue",
    "export", "import", "default", "delete", "instanceof", "this",
}  # fmt: skip

# Prints a hash-free canonical AST for each source it is given (one JSON line in, one out).
AST_SCRIPT = r"""
const acorn = require(process.argv[1]);
const rl = require('readline').createInterface({ input: process.stdin });
const drop = new Set(['start', 'end', 'loc', 'range']);
rl.on('line', (line) => {
  const { source, module } = JSON.parse(line);
  let out = null;
  for (const sourceType of module ? ['module'] : ['commonjs', 'module']) {
    try {
      const tree = acorn.parse(source, { ecmaVersion: 'latest', sourceType, allowHashBang: true });
      out = JSON.stringify(tree, (k, v) => (drop.has(k) ? undefined : v));
      break;
    } catch (e) { out = null; }
  }
  process.stdout.write(JSON.stringify({ ast: out }) + '\n');
});
"""


@dataclass
class Case:
    language: str
    source: Path
    original: str
    broken: str
    kind: str
    package_type: str | None


@dataclass
class Outcome:
    case: Case
    parses: bool = False
    exact: bool = False
    damaged: bool = False
    seconds: float = 0.0
    outcome: str = ""
    repaired: str | None = None
    refused: list[str] = field(default_factory=list)  # the meaning guard's reasons


# --- faults ---------------------------------------------------------------------------


def _tokens(text: str, language: str) -> list[Token]:
    return [t for t in tokenize(text, language) if t.kind != "comment"]


def _mutate_keyword(word: str, rng: random.Random) -> str:
    if rng.random() < 0.5 and len(word) >= 2:
        i = rng.randrange(len(word) - 1)
        if word[i] != word[i + 1]:
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    i = rng.randrange(len(word))
    letter = rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != word[i]])
    return word[:i] + letter + word[i + 1 :]


def inject(text: str, language: str, kind: str, rng: random.Random) -> str | None:
    """`text` with one fault of `kind`, or None when the file has no site for it."""
    tokens = _tokens(text, language)
    python = language == "python"

    def pick(predicate) -> Token | None:
        sites = [t for t in tokens if predicate(t)]
        return rng.choice(sites) if sites else None

    if kind == "deleted bracket":
        t = pick(lambda t: t.kind == "op" and (t.text in OPENERS or t.text in CLOSERS))
        return None if t is None else text[: t.start] + text[t.end :]
    if kind == "extra bracket":
        t = pick(lambda t: t.kind == "op" and t.text in CLOSERS)
        return None if t is None else text[: t.end] + t.text + text[t.end :]
    if kind == "missing colon":
        if python:
            t = pick(lambda t: t.text == ":" and text[t.end : t.end + 1] in ("\n", " ", "\r"))
        else:
            t = pick(lambda t: t.text == ":")
        return None if t is None else text[: t.start] + text[t.end :]
    if kind == "missing comma":
        t = pick(lambda t: t.text == ",")
        return None if t is None else text[: t.start] + text[t.end :]
    if kind == "dropped quote":
        t = pick(
            lambda t: (
                t.kind == "str"
                and t.text[-1] in "'\""
                and not t.text.endswith(('"""', "'''"))
                and "\n" not in t.text
                and len(t.text) >= 2
            )
        )
        if t is None:
            return None
        body_start = t.end - len(t.text.lstrip("rRbBuUfF"))
        at = body_start if rng.random() < 0.5 else t.end - 1
        return text[:at] + text[at + 1 :]
    if kind == "misspelt keyword":
        words = PY_KEYWORDS if python else JS_KEYWORDS
        t = pick(lambda t: t.kind == "name" and t.text in words)
        if t is None:
            return None
        return text[: t.start] + _mutate_keyword(t.text, rng) + text[t.end :]
    if kind == "lost indentation":
        lines = text.splitlines(keepends=True)
        indented = [
            i
            for i, line in enumerate(lines)
            if line[:1] in (" ", "\t") and line.strip() and not line.lstrip().startswith("#")
        ]
        if not indented:
            return None
        i = rng.choice(indented)
        line = lines[i]
        if line.startswith("\t"):
            lines[i] = line[1:]
        else:
            width = len(line) - len(line.lstrip(" "))
            lines[i] = line[min(width, 4 if width % 4 == 0 else 2) :]
        return "".join(lines)
    raise ValueError(kind)


# --- files ----------------------------------------------------------------------------


def package_type(path: Path) -> str | None:
    """The "type" node would read for `path`: the nearest package.json, as in js_check."""
    folder = path.parent
    while True:
        package = folder / "package.json"
        if package.is_file():
            try:
                kind = json.loads(package.read_text("utf-8")).get("type")
            except (OSError, ValueError, AttributeError):
                return None
            return kind if kind in ("module", "commonjs") else None
        if folder.name == "node_modules" or folder.parent == folder:
            return None
        folder = folder.parent


def load_cases(
    language: str, count: int, rng: random.Random, checker: Checker, extra_js: list[str]
) -> tuple[list[Case], Counter[str]]:
    if language == "python":
        sources = find_sources(python_roots(), (".py",), "py")
    else:
        sources = find_sources(javascript_roots(extra_js), (".js", ".mjs", ".cjs"), "js")
    rng.shuffle(sources)
    kinds = PY_KINDS if language == "python" else JS_KINDS
    cases: list[Case] = []
    dropped: Counter[str] = Counter()
    for source in sources:
        if len(cases) >= count:
            break
        path = source.path
        try:
            data = path.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError):
            dropped["unreadable or not UTF-8"] += 1
            continue
        if not text.strip() or len(data) > MAX_BYTES or "\r" in text:
            dropped["empty, larger than 200 KB, or CRLF"] += 1
            continue
        if checker.foreign_dialect(text) or checker.check_source(path, data) is not None:
            dropped["invalid (or another dialect) to begin with"] += 1
            continue
        if language == "javascript" and _acorn_ast(text, package_type(path)) is None:
            dropped["acorn cannot parse the original"] += 1
            continue
        kind = kinds[len(cases) % len(kinds)]  # the kinds in equal shares
        broken = None
        for _ in range(TRIES_PER_FILE):
            candidate = inject(text, language, kind, rng)
            if candidate is None:
                break
            if candidate != text and checker.check_source(path, candidate.encode()) is not None:
                broken = candidate
                break
        if broken is None:
            dropped[f"no breaking site for {kind}"] += 1
            continue
        cases.append(Case(language, path, text, broken, kind, package_type(path)))
    return cases, dropped


# --- exactness ------------------------------------------------------------------------

_ast_process: subprocess.Popen[str] | None = None


def _acorn_ast(source: str, kind: str | None) -> str | None:
    global _ast_process
    if _ast_process is None:
        acorn = Path(__file__).resolve().parent.parent / "mechanic/detect/checkers/vendor/acorn.js"
        _ast_process = subprocess.Popen(
            ["node", "-e", AST_SCRIPT, str(acorn)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    assert _ast_process.stdin is not None and _ast_process.stdout is not None
    _ast_process.stdin.write(json.dumps({"source": source, "module": kind == "module"}) + "\n")
    _ast_process.stdin.flush()
    return json.loads(_ast_process.stdout.readline())["ast"]


def same_program(language: str, original: str, repaired: str, kind: str | None) -> bool:
    if language == "python":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return ast.dump(ast.parse(original)) == ast.dump(ast.parse(repaired))
            except SyntaxError:
                return False
    before = _acorn_ast(original, kind)
    return before is not None and before == _acorn_ast(repaired, kind)


# --- the run --------------------------------------------------------------------------


def repair(
    case: Case, checker: Checker, scratch: Path, index: int, budget: float, guarded: bool = True
) -> Outcome:
    folder = scratch / f"case-{index}"
    folder.mkdir()
    if case.package_type:
        (folder / "package.json").write_text(json.dumps({"type": case.package_type}))
    elif case.language == "javascript":
        (folder / "package.json").write_text("{}")
    target = folder / case.source.name
    broken = case.broken.encode("utf-8")
    target.write_bytes(broken)
    guard = Guard((), [folder])
    result = Outcome(case)
    started = time.perf_counter()
    finding = checker.check_source(target, broken)

    def accept(text: str) -> bool:  # what rung.try_deterministic passes
        reason = meaning.refusal(
            case.broken,
            text,
            language=case.language,
            finding=finding,
            baseline=None,
            max_file_kb=1024,
            path=target,
            checker=checker,
        )
        if reason is not None:
            result.refused.append(reason)
        return reason is None

    fixed = (
        search(
            case.broken,
            finding,
            checker,
            target,
            budget_seconds=budget,
            accept=accept if guarded else None,
        )
        if finding
        else None
    )
    if fixed is not None:
        tx = apply_fix(
            target,
            original=broken,
            fixed=fixed.encode("utf-8"),
            checker=checker,
            backup_dir=folder / "backups",
            guard=guard,
        )
        result.outcome = tx.outcome
    else:
        result.outcome = "not found"
    result.seconds = time.perf_counter() - started
    result.repaired = fixed
    on_disk = target.read_bytes()
    verdict = checker.check_source(target, on_disk)
    result.parses = verdict is None
    result.damaged = on_disk != broken and verdict is not None
    if result.parses:
        result.exact = same_program(
            case.language, case.original, on_disk.decode("utf-8"), case.package_type
        )
    return result


def summarise(language: str, outcomes: list[Outcome]) -> dict[str, Any]:
    n = len(outcomes)
    times = sorted(o.seconds for o in outcomes)
    by_kind: dict[str, dict[str, int]] = defaultdict(lambda: Counter())
    for o in outcomes:
        entry = by_kind[o.case.kind]
        entry["files"] += 1
        entry["parses"] += o.parses
        entry["exact"] += o.exact
    return {
        "language": language,
        "files": n,
        "parses": sum(o.parses for o in outcomes) / n if n else 0.0,
        "exact": sum(o.exact for o in outcomes) / n if n else 0.0,
        "median_s": statistics.median(times) if times else 0.0,
        "p95_s": times[min(n - 1, int(0.95 * n))] if times else 0.0,
        "max_s": times[-1] if times else 0.0,
        "damaged": sum(o.damaged for o in outcomes),
        "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "outcomes": dict(Counter(o.outcome for o in outcomes)),
        "slowest": [
            f"{o.seconds * 1000:.0f} ms {o.case.kind} ({o.outcome}) {o.case.source}"
            f" [{len(o.case.broken) // 1024} KiB]"
            for o in sorted(outcomes, key=lambda o: -o.seconds)[:3]
        ],
    }


def print_summary(summary: dict[str, Any], dropped: Counter[str]) -> None:
    language = summary["language"]
    parse_target, exact_target = TARGETS[language]
    n = summary["files"]
    print(f"\n{language}: {n} files, one injected fault each")
    print(
        f"  parses again   {summary['parses']:7.1%}  (target >= {parse_target:.0%}:"
        f" {'OK' if summary['parses'] >= parse_target else 'SHORT'})"
    )
    print(
        f"  restored exact {summary['exact']:7.1%}  (target >= {exact_target:.0%}:"
        f" {'OK' if summary['exact'] >= exact_target else 'SHORT'})"
    )
    print(
        f"  time per file  median {summary['median_s'] * 1000:.0f} ms"
        f" (target <= {MEDIAN_TARGET_S * 1000:.0f} ms:"
        f" {'OK' if summary['median_s'] <= MEDIAN_TARGET_S else 'OVER'}),"
        f" p95 {summary['p95_s'] * 1000:.0f} ms, max {summary['max_s'] * 1000:.0f} ms"
    )
    print(f"  files damaged  {summary['damaged']}  (must be 0)")
    print(f"  outcomes       {summary['outcomes']}")
    for line in summary["slowest"]:
        print(f"  slowest        {line}")
    print(f"  {'fault':<18} {'files':>5} {'parses':>8} {'exact':>8}")
    for kind, entry in summary["by_kind"].items():
        files = entry["files"]
        print(
            f"  {kind:<18} {files:>5} {entry['parses'] / files:8.1%} {entry['exact'] / files:8.1%}"
        )
    if dropped:
        print("  files passed over: " + ", ".join(f"{v} {k}" for k, v in dropped.most_common()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--files", type=int, default=300, help="files per language (300)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--budget", type=float, default=2.0, help="search budget_seconds")
    parser.add_argument("--language", choices=("python", "javascript"), action="append")
    parser.add_argument("--js-root", action="append", default=[])
    parser.add_argument("--out", type=Path, help="folder for fault_injection.json")
    parser.add_argument("--show-misses", type=int, default=0, help="print N missed cases")
    parser.add_argument("--no-guard", action="store_true", help="search without the guard")
    args = parser.parse_args(argv)
    languages = args.language or ["python", "javascript"]
    if "javascript" in languages and shutil.which("node") is None:
        languages.remove("javascript")
        print("node not found: JavaScript skipped", file=sys.stderr)
    report: dict[str, Any] = {"seed": args.seed, "budget_seconds": args.budget}
    with CheckerSet() as checkers, tempfile.TemporaryDirectory(prefix="mechanic-faults-") as tmp:
        for language in languages:
            checker = checkers.get(language)
            rng = random.Random(f"{args.seed}-{language}")
            cases, dropped = load_cases(language, args.files, rng, checker, args.js_root)
            scratch = Path(os.path.realpath(tmp)) / language
            scratch.mkdir()
            outcomes = [
                repair(case, checker, scratch, i, args.budget, not args.no_guard)
                for i, case in enumerate(cases)
            ]
            summary = summarise(language, outcomes)
            print_summary(summary, dropped)
            _print_refusals(outcomes)
            report[language] = summary
            for o in [o for o in outcomes if not o.exact][: args.show_misses]:
                _show_miss(o)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "fault_injection.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _print_refusals(outcomes: list[Outcome]) -> None:
    """What the meaning guard refused: candidates, files where it refused every one,
    and the rules named."""
    rules = Counter(
        r.split("(", 1)[1].split(")", 1)[0] for o in outcomes for r in o.refused if "(" in r
    )
    touched = [o for o in outcomes if o.refused]
    lost = sum(1 for o in touched if o.outcome == "not found")
    shown = ", ".join(f"{rule} {n}" for rule, n in rules.most_common())
    print(
        f"  meaning guard: refused {sum(rules.values())} candidates in {len(touched)} files"
        f" ({lost} left without a fix){': ' + shown if shown else ''}"
    )


def _show_miss(o: Outcome) -> None:
    import difflib

    print(f"\n--- miss: {o.case.kind} in {o.case.source} ({o.outcome}, parses={o.parses})")
    diff = difflib.unified_diff(
        o.case.original.splitlines(), o.case.broken.splitlines(), "original", "broken", n=1
    )
    print("\n".join(list(diff)[2:12]))
    if o.repaired is not None:
        fix = difflib.unified_diff(
            o.case.broken.splitlines(), o.repaired.splitlines(), "broken", "repaired", n=1
        )
        print("\n".join(list(fix)[2:12]))


if __name__ == "__main__":
    sys.exit(main())
