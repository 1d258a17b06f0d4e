"""How fast mechanic finds broken files, against seed 003's one-process-per-file way.

Run:  .venv/bin/python bench/check_throughput.py [--files N] [--out DIR]

1. Copies real Python and JavaScript files from installed packages (the stdlib and
   site-packages; `npm root -g`, /usr/share/nodejs, ...) into a temporary tree, keeping
   their relative layout and the package.json files node reads to tell ES modules from
   CommonJS. Path components mechanic excludes by default (node_modules, .git, venv,
   ...) are renamed so that every copied file is watched.
2. Times mechanic's own scan() in-process with a fresh state folder: cold (empty cache)
   and warm (nothing changed), on this tree and on a 10,000-file tree, and the whole
   `mechanic check` CLI warm, as a subprocess.
3. Times the seed's way, `node --check FILE` / `python -m py_compile FILE` one process
   per file, on a random sample of each language, and extrapolates its per-file cost to
   the whole tree.

Prints a table (and writes JSON to --out DIR/check_throughput.json). A benchmark, not a
test: it asserts nothing and exits 0 unless it could not run at all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mechanic.config.load import parse_config
from mechanic.config.settings import Config
from mechanic.detect.checkers import CheckerSet
from mechanic.detect.discovery import Finder
from mechanic.detect.scan import ScanResult, scan
from mechanic.store import Store

PY_EXTS = (".py",)
JS_EXTS = (".js", ".mjs", ".cjs")
# Folder names mechanic's default exclude skips; renamed in the copy so files stay watched.
RENAMED = {
    "node_modules": "node-modules",
    ".git": "dot-git",
    "__pycache__": "pycache",
    ".venv": "dot-venv",
    "venv": "venv-dir",
}
SKIP_SOURCE_DIRS = {"__pycache__", ".git"}
PER_FILE_TIMEOUT = 30.0
CLI_TIMEOUT = 300.0
WARM_TARGET_S = 0.5
RATIO_TARGET = 20.0


# --- building the tree ----------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One real file and the folder it is copied relative to."""

    path: Path
    root: Path
    label: str  # top folder in the copy

    def rel(self) -> Path:
        return self.path.relative_to(self.root)


@dataclass
class Tree:
    root: Path
    python: list[Path] = field(default_factory=list)  # copied files, resolved
    javascript: list[Path] = field(default_factory=list)
    js_available: int = 0  # JavaScript files found on this machine
    py_available: int = 0
    package_json: int = 0
    unreadable: int = 0

    @property
    def files(self) -> int:
        return len(self.python) + len(self.javascript)


def _run_quiet(cmd: list[str], timeout: float = 30.0) -> str | None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _distinct_roots(candidates: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Existing folders, resolved, without duplicates or folders inside another."""
    roots: list[Path] = []
    for candidate in candidates:
        if not candidate:
            continue
        path = Path(os.path.realpath(candidate))
        if path.is_dir() and path not in roots:
            roots.append(path)
    return [r for r in roots if not any(o != r and o in r.parents for o in roots)]


def python_roots() -> list[Path]:
    paths = sysconfig.get_paths()
    return _distinct_roots([paths["stdlib"], paths["purelib"], paths["platlib"]])


def javascript_roots(extra: list[str]) -> list[Path]:
    npm_root = _run_quiet(["npm", "root", "-g"]) or ""
    return _distinct_roots(
        [
            npm_root,
            "/usr/lib/node_modules",
            "/usr/local/lib/node_modules",
            "/opt/homebrew/lib/node_modules",
            "/usr/share/nodejs",
            "/usr/share/javascript",
            *extra,
        ]
    )


def _label(prefix: str, root: Path) -> str:
    name = "-".join(part for part in root.parts[1:] if part) or "root"
    return f"{prefix}-{name.replace('_', '-').replace('.', '-')}"


def find_sources(roots: list[Path], exts: tuple[str, ...], prefix: str) -> list[Source]:
    found: list[Source] = []
    seen: set[str] = set()
    for root in roots:
        label = _label(prefix, root)
        for folder, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_SOURCE_DIRS)
            for name in sorted(filenames):
                if not name.endswith(exts):
                    continue
                path = Path(folder, name)
                if path.is_symlink() or not path.is_file():
                    continue
                real = os.path.realpath(path)
                if real not in seen:
                    seen.add(real)
                    found.append(Source(path, root, label))
    return found


def _dest(tree: Path, source: Source, rel: Path) -> Path:
    return tree.joinpath(source.label, *(RENAMED.get(part, part) for part in rel.parts))


def _copy(src: Path, dest: Path) -> bool:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    except OSError:
        return False
    return True


def build_tree(
    root: Path, total: int, py_sources: list[Source], js_sources: list[Source], seed: int
) -> Tree:
    """Copy `total` files, half JavaScript if there is that much, the rest Python."""
    rng = random.Random(seed)
    js_count = min(len(js_sources), total // 2)
    py_count = min(len(py_sources), total - js_count)
    tree = Tree(root=root, js_available=len(js_sources), py_available=len(py_sources))
    copied_package_json: set[Path] = set()
    for source in rng.sample(js_sources, js_count):
        dest = _dest(root, source, source.rel())
        if not _copy(source.path, dest):
            tree.unreadable += 1
            continue
        tree.javascript.append(dest)
        # The package.json files between the file and its root decide CommonJS vs module.
        for parent in source.path.parents:
            if parent != source.root and source.root not in parent.parents:
                break
            package = parent / "package.json"
            target = _dest(root, source, package.relative_to(source.root))
            if target not in copied_package_json and package.is_file():
                copied_package_json.add(target)
                _copy(package, target)
    tree.package_json = len(copied_package_json)
    for source in rng.sample(py_sources, py_count):
        dest = _dest(root, source, source.rel())
        if _copy(source.path, dest):
            tree.python.append(dest)
        else:
            tree.unreadable += 1
    return tree


def write_config(folder: Path, tree: Path) -> tuple[Path, Config]:
    """A config watching `tree` with the default include/exclude and its own state."""
    text = (
        "[mechanic]\n"
        f"state_dir = {json.dumps(str(folder / 'state'))}\n"
        f"backup_dir = {json.dumps(str(folder / 'backups'))}\n"
        "[llm]\n"
        'backend = "none"\n'
        "[[watch]]\n"
        f"path = {json.dumps(str(tree))}\n"
    )
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path, parse_config(text, path)


# --- timing mechanic ------------------------------------------------------------------


class _TimedStore(Store):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timings: dict[str, float] = defaultdict(float)

    def file_states(self):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return super().file_states()
        finally:
            self.timings["load cache"] += time.perf_counter() - started

    def save_file_states(self, states):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return super().save_file_states(states)
        finally:
            self.timings["save cache"] += time.perf_counter() - started


class _TimedCheckers(CheckerSet):
    """A CheckerSet that notes how long each checker's signature and batch take."""

    def __init__(self, *, node: str | None = None) -> None:
        super().__init__(node=node)
        self.timings: dict[str, float] = defaultdict(float)
        self.checked: Counter[str] = Counter()
        self._wrapped: set[str] = set()

    def get(self, language: str):  # type: ignore[no-untyped-def]
        checker = super().get(language)
        if language not in self._wrapped:
            self._wrapped.add(language)
            check_files, signature = checker.check_files, checker.signature

            def timed_check(paths: Iterable[Path]) -> Any:
                paths = list(paths)
                started = time.perf_counter()
                try:
                    return check_files(paths)
                finally:
                    self.timings[f"check {language}"] += time.perf_counter() - started
                    self.checked[language] += len(paths)

            def timed_signature() -> str:
                started = time.perf_counter()
                try:
                    return signature()
                finally:
                    self.timings[f"signature {language}"] += time.perf_counter() - started

            checker.check_files = timed_check  # type: ignore[method-assign]
            checker.signature = timed_signature  # type: ignore[method-assign]
        return checker

    def close(self) -> None:
        started = time.perf_counter()
        try:
            super().close()
        finally:
            self.timings["close checkers"] += time.perf_counter() - started


@dataclass
class ScanRun:
    seconds: float
    result: ScanResult
    breakdown: dict[str, float]
    checked_by_language: dict[str, int]


def mechanic_scan(config: Config) -> ScanRun:
    """One scan exactly as `mechanic check` does it, timed end to end."""
    started = time.perf_counter()
    with (
        _TimedStore.open(config.mechanic.state_dir) as store,
        _TimedCheckers(node=config.mechanic.node) as checkers,
    ):
        result = scan(
            Finder(config), checkers, store, max_file_bytes=config.mechanic.max_file_kb * 1024
        )
    seconds = time.perf_counter() - started
    assert isinstance(store, _TimedStore)
    breakdown = {**store.timings, **checkers.timings}
    breakdown["walk, stat, hash, rest"] = seconds - sum(breakdown.values())
    breakdown = {k: round(v, 4) for k, v in sorted(breakdown.items(), key=lambda kv: -kv[1])}
    return ScanRun(seconds, result, breakdown, dict(checkers.checked))


def time_walk(config: Config, repeats: int = 3) -> tuple[float, int]:
    """Median seconds for Finder alone to list the tree (no cache, no checks)."""
    runs: list[float] = []
    count = 0
    for _ in range(repeats):
        started = time.perf_counter()
        count = sum(1 for _ in Finder(config).files())
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), count


def time_cli(config_path: Path, repeats: int) -> dict[str, Any]:
    runs: list[float] = []
    codes: list[int | str] = []
    for _ in range(repeats):
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "mechanic", "check", "--config", str(config_path)],
                capture_output=True,
                timeout=CLI_TIMEOUT,
                check=False,
            )
            codes.append(done.returncode)
        except subprocess.TimeoutExpired:
            codes.append("timeout")
        runs.append(time.perf_counter() - started)
    return {
        "seconds_median": round(statistics.median(runs), 4),
        "seconds_runs": [round(r, 4) for r in runs],
        "exit_codes": codes,  # 1 = broken files listed, as expected here
    }


def cold_and_warm(tree: Tree, folder: Path, warm_repeats: int) -> dict[str, Any]:
    config_path, config = write_config(folder, tree.root)
    cold = mechanic_scan(config)
    warm_runs = [mechanic_scan(config) for _ in range(warm_repeats)]
    walk_s, walked = time_walk(config)
    warm_median = statistics.median(r.seconds for r in warm_runs)
    # The breakdown shown is that of the median run (the upper one for an even count).
    typical = sorted(warm_runs, key=lambda r: r.seconds)[len(warm_runs) // 2]
    findings = cold.result.findings
    broken_by_language = Counter(f.language for f in findings.values())
    return {
        "config_path": config_path,
        "cold_run": cold,
        "report": {
            "files_watched": len(cold.result.files),
            "cold": {
                "seconds": round(cold.seconds, 4),
                "files_per_s": round(len(cold.result.files) / cold.seconds, 1),
                "checked": cold.result.checked,
                "checked_by_language": cold.checked_by_language,
                "broken_by_language": dict(broken_by_language),
                "skipped": len(cold.result.skipped),
                "skipped_reasons": sorted(set(cold.result.skipped.values()))[:5],
                "broken_examples": [
                    f"{f.path.relative_to(tree.root)}: {f.message}"
                    for f in sorted(findings.values(), key=lambda f: str(f.path))[:10]
                ],
                "unavailable": cold.result.unavailable,
                "breakdown_s": cold.breakdown,
            },
            "warm": {
                "seconds_median": round(warm_median, 4),
                "seconds_min": round(min(r.seconds for r in warm_runs), 4),
                "seconds_runs": [round(r.seconds, 4) for r in warm_runs],
                "files_per_s": round(len(cold.result.files) / warm_median, 1),
                "rechecked_each_run": typical.result.checked,
                "rechecked_by_language": typical.checked_by_language,
                "breakdown_s": typical.breakdown,
                "walk_only_s": round(walk_s, 4),
                "walk_only_files": walked,
            },
        },
    }


# --- timing the seed's way ------------------------------------------------------------


def per_file(command: list[str], files: list[Path]) -> dict[str, Any]:
    """Run `command FILE` once per file, serially, as seed 003 did."""
    broken: list[Path] = []
    timeouts = 0
    errors = 0
    started = time.perf_counter()
    for path in files:
        try:
            done = subprocess.run(
                [*command, str(path)],
                capture_output=True,
                timeout=PER_FILE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            timeouts += 1
            continue
        except OSError:
            errors += 1
            continue
        if done.returncode != 0:
            broken.append(path)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "broken": broken,
        "timeouts": timeouts,
        "errors": errors,
    }


def seed_way(tree: Tree, findings: Iterable[Path], sample: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed + 1)
    mechanic_broken = {Path(p) for p in findings}
    node = shutil.which("node")
    # py_compile writes FILE's .pyc into the tree's __pycache__ (temporary, and excluded by
    # mechanic). Not PYTHONPYCACHEPREFIX: with an empty prefix every run would recompile
    # the interpreter's own startup modules too, and measure that instead.
    plans = [
        ("python", [sys.executable, "-m", "py_compile"], tree.python),
        ("javascript", [node, "--check"] if node else None, tree.javascript),
    ]
    out: dict[str, Any] = {}
    for language, command, files in plans:
        picked = rng.sample(files, min(sample, len(files)))
        if command is None or not picked:
            out[language] = {"sample": 0, "note": "node not found" if command is None else ""}
            continue
        run = per_file(command, picked)
        theirs = set(run["broken"])
        ours = {p for p in picked if p in mechanic_broken}
        out[language] = {
            "command": " ".join(
                Path(command[0]).name if i == 0 else c for i, c in enumerate(command)
            ),
            "sample": len(picked),
            "seconds": round(run["seconds"], 3),
            "files_per_s": round(len(picked) / run["seconds"], 2),
            "s_per_file": run["seconds"] / len(picked),
            "broken_per_file_way": len(theirs),
            "broken_mechanic": len(ours),
            "missed_by_per_file_way": len(ours - theirs),
            "flagged_only_by_per_file_way": len(theirs - ours),
            "missed_examples": sorted(str(p.relative_to(tree.root)) for p in ours - theirs)[:5],
            "flagged_only_examples": sorted(str(p.relative_to(tree.root)) for p in theirs - ours)[
                :5
            ],
            "timeouts": run["timeouts"],
            "errors": run["errors"],
        }
    return out


# --- report ---------------------------------------------------------------------------


def _row(name: str, files: int | str, seconds: float | None, note: str = "") -> str:
    rate = f"{files / seconds:,.0f}" if seconds and isinstance(files, int) else ""
    secs = f"{seconds:,.3f}" if seconds is not None else "-"
    files_text = f"{files:,}" if isinstance(files, int) else files
    return f"{name:<44} {files_text:>8} {secs:>10} {rate:>10}  {note}"


def print_report(report: dict[str, Any]) -> None:
    tree, big, seed = report["tree"], report["tree_10k"], report["seed_way"]
    main, ten = report["mechanic"], report["mechanic_10k"]
    print()
    print(
        f"tree: {tree['files']:,} files copied ({tree['python']:,} Python,"
        f" {tree['javascript']:,} JavaScript; {tree['package_json']} package.json alongside)"
    )
    print(
        f"  available here: {tree['py_available']:,} Python, {tree['js_available']:,}"
        f" JavaScript files (JS roots: {', '.join(report['sources']['javascript']) or 'none'})"
    )
    if tree["javascript"] < tree["files"] // 2:
        print(
            f"  NOTE: only {tree['js_available']:,} distinct JavaScript files on this machine;"
            " all taken, the rest is Python"
        )
    cold = main["cold"]
    invalid = ", ".join(f"{n} {lang}" for lang, n in sorted(cold["broken_by_language"].items()))
    print(
        f"  already invalid (mechanic, cold): {invalid or 'none'};"
        f" {cold['skipped']} not judged (too large/unreadable)"
    )
    for example in cold["broken_examples"][:8]:
        print(f"    {example[:140]}")
    print()
    print(f"{'measurement':<44} {'files':>8} {'seconds':>10} {'files/s':>10}  note")
    print("-" * 96)
    print(_row("mechanic scan() cold (empty cache)", main["files_watched"], cold["seconds"]))
    for name, seconds in cold["breakdown_s"].items():
        print(_row(f"  {name}", "", seconds))
    warm = main["warm"]
    print(
        _row(
            "mechanic scan() warm (nothing changed)",
            main["files_watched"],
            warm["seconds_median"],
            f"median of {len(warm['seconds_runs'])} (min {warm['seconds_min']:.3f});"
            f" re-checks {warm['rechecked_each_run']} known-broken files",
        )
    )
    print(_row("mechanic check CLI warm (subprocess)", main["files_watched"], main["cli_warm"]))
    print(
        _row(
            f"mechanic scan() cold, {big['files']:,}-file tree",
            ten["files_watched"],
            ten["cold"]["seconds"],
        )
    )
    verdict = "OK" if ten["warm"]["seconds_median"] <= WARM_TARGET_S else "OVER TARGET"
    print(
        _row(
            f"mechanic scan() warm, {big['files']:,}-file tree",
            ten["files_watched"],
            ten["warm"]["seconds_median"],
            f"median of {len(ten['warm']['seconds_runs'])} (min {ten['warm']['seconds_min']:.3f});"
            f" target <= {WARM_TARGET_S} s: {verdict}",
        )
    )
    for name, seconds in ten["warm"]["breakdown_s"].items():
        print(_row(f"  {name}", "", seconds))
    print(
        _row(
            "  (Finder walk alone, median of 3)",
            ten["warm"]["walk_only_files"],
            ten["warm"]["walk_only_s"],
        )
    )
    print(
        _row(
            f"mechanic check CLI warm, {big['files']:,} files",
            ten["files_watched"],
            ten["cli_warm"],
        )
    )
    for language in ("python", "javascript"):
        entry = seed[language]
        if not entry.get("sample"):
            continue
        print(
            _row(
                f"per file: {entry['command']} (sample)",
                entry["sample"],
                entry["seconds"],
                f"broken: {entry['broken_per_file_way']} per-file vs"
                f" {entry['broken_mechanic']} mechanic;"
                f" missed {entry['missed_by_per_file_way']}",
            )
        )
    ratio = report["ratio"]
    print(
        _row(
            "per file, extrapolated to the whole tree",
            main["files_watched"],
            ratio["per_file_extrapolated_s"],
            "EXTRAPOLATED: sample s/file x files per language",
        )
    )
    print("-" * 96)
    verdict = "OK" if ratio["cold_speedup"] >= RATIO_TARGET else "UNDER TARGET"
    print(
        f"mechanic cold vs one process per file: {ratio['cold_speedup']:.1f}x faster"
        f" (target >= {RATIO_TARGET:g}x: {verdict})"
    )
    for language in ("python", "javascript"):
        entry = seed[language]
        for key, label in (
            ("missed_examples", "missed by the per-file way"),
            ("flagged_only_examples", "flagged only by the per-file way"),
        ):
            if entry.get(key):
                print(f"  {language} {label}, e.g.: {', '.join(entry[key][:3])}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


# --- main -----------------------------------------------------------------------------


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class _Args:
    files: int
    big: int
    sample: int
    seed: int
    warm_repeats: int
    out: Path | None
    js_roots: list[str]
    keep: bool


def parse_args(argv: list[str] | None) -> _Args:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--files", type=int, default=6000, help="files in the tree (6000)")
    parser.add_argument("--big", type=int, default=10000, help="files in the warm tree (10000)")
    parser.add_argument("--sample", type=int, default=300, help="per-file sample per language")
    parser.add_argument("--seed", type=int, default=3, help="random seed for the picks")
    parser.add_argument("--warm-repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, help="folder for check_throughput.json")
    parser.add_argument(
        "--js-root", action="append", default=[], help="another folder of .js files to draw on"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary trees")
    ns = parser.parse_args(argv)
    if ns.files < 2 or ns.big < 2 or ns.sample < 1 or ns.warm_repeats < 1:
        parser.error("--files, --big, --sample and --warm-repeats must be positive")
    return _Args(ns.files, ns.big, ns.sample, ns.seed, ns.warm_repeats, ns.out, ns.js_root, ns.keep)


def _tree_summary(tree: Tree) -> dict[str, Any]:
    return {
        "root": str(tree.root),
        "files": tree.files,
        "python": len(tree.python),
        "javascript": len(tree.javascript),
        "package_json": tree.package_json,
        "py_available": tree.py_available,
        "js_available": tree.js_available,
        "unreadable_sources": tree.unreadable,
    }


@dataclass
class _Scratch:
    path: Path
    keep: bool

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        if self.keep:
            _progress(f"kept {self.path}")
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def _scratch(keep: bool) -> _Scratch:
    return _Scratch(Path(os.path.realpath(tempfile.mkdtemp(prefix="mechanic-bench-"))), keep)


def run(args: _Args) -> dict[str, Any]:
    py_roots, js_roots = python_roots(), javascript_roots(args.js_roots)
    _progress(f"finding sources in {len(py_roots)} Python and {len(js_roots)} JavaScript roots")
    py_sources = find_sources(py_roots, PY_EXTS, "py")
    js_sources = find_sources(js_roots, JS_EXTS, "js")
    if not py_sources and not js_sources:
        raise SystemExit("no Python or JavaScript files found to copy")
    report: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "node": _run_quiet(["node", "--version"]),
        },
        "sources": {
            "python": [str(r) for r in py_roots],
            "javascript": [str(r) for r in js_roots],
        },
    }
    with _scratch(args.keep) as scratch:
        _progress(f"copying {args.files} files into {scratch}")
        tree = build_tree(scratch / "tree", args.files, py_sources, js_sources, args.seed)
        report["tree"] = _tree_summary(tree)
        _progress("mechanic: cold and warm scans")
        (scratch / "run").mkdir()
        measured = cold_and_warm(tree, scratch / "run", args.warm_repeats)
        report["mechanic"] = measured["report"]
        _progress("mechanic check CLI, warm")
        cli = time_cli(measured["config_path"], 3)
        report["mechanic"]["cli_warm"] = cli["seconds_median"]
        report["mechanic"]["cli_warm_detail"] = cli

        _progress(f"building the {args.big}-file tree")
        big = build_tree(scratch / "tree-big", args.big, py_sources, js_sources, args.seed)
        if big.files < args.big and big.files:
            _duplicate_to(big, args.big)
        report["tree_10k"] = _tree_summary(big)
        _progress("mechanic: cold and warm scans of the big tree")
        (scratch / "run-big").mkdir()
        measured_big = cold_and_warm(big, scratch / "run-big", args.warm_repeats)
        report["mechanic_10k"] = measured_big["report"]
        cli_big = time_cli(measured_big["config_path"], 3)
        report["mechanic_10k"]["cli_warm"] = cli_big["seconds_median"]
        report["mechanic_10k"]["cli_warm_detail"] = cli_big

        _progress(f"per-file way on {args.sample} files of each language (takes a while)")
        findings = measured["cold_run"].result.findings
        seed = seed_way(tree, findings, args.sample, args.seed)
        report["seed_way"] = seed
        per_file_s = 0.0
        for language, files in (("python", tree.python), ("javascript", tree.javascript)):
            if seed[language].get("sample"):
                per_file_s += seed[language]["s_per_file"] * len(files)
        cold_s = report["mechanic"]["cold"]["seconds"]
        report["ratio"] = {
            "per_file_extrapolated_s": round(per_file_s, 2),
            "mechanic_cold_s": cold_s,
            "cold_speedup": round(per_file_s / cold_s, 2) if cold_s else None,
            "how": "per-file seconds per file on the sample x the tree's files of that language",
        }
    return report


def _duplicate_to(tree: Tree, target: int) -> None:
    """Too few distinct files: copy the tree's own files under copy-N/ until `target`."""
    originals = [(p, "python") for p in tree.python] + [(p, "javascript") for p in tree.javascript]
    copy = 0
    while tree.files < target:
        copy += 1
        for path, language in originals:
            if tree.files >= target:
                break
            dest = tree.root / f"copy-{copy}" / path.relative_to(tree.root)
            for parent in path.parents:
                if parent == tree.root:
                    break
                package = parent / "package.json"
                target_package = tree.root / f"copy-{copy}" / package.relative_to(tree.root)
                if package.is_file() and not target_package.exists():
                    _copy(package, target_package)
            if _copy(path, dest):
                (tree.python if language == "python" else tree.javascript).append(dest)


def _check_sources_exist() -> Iterator[str]:
    if shutil.which("node") is None:
        yield "node not on PATH: JavaScript is neither copied usefully nor checked"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for problem in _check_sources_exist():
        _progress(f"warning: {problem}")
    report = run(args)
    print_report(report)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        target = args.out / "check_throughput.json"
        target.write_text(json.dumps(_jsonable(report), indent=2) + "\n", encoding="utf-8")
        print(f"\nJSON written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
