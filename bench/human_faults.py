"""How the zero-token rung does on realistic human faults, not injected token slips.

Run:  .venv/bin/python bench/human_faults.py [--through rung] [--show wrong,refused]

The corpus (bench/human_faults/): working programs in programs/, and faults.toml,
where each case breaks one program the way people do (`=` for `==`, a Python 2
`print x` in a Python 3 file, a missing operator or operand, a keyword in the wrong
case, another language's keyword, a block that lost its indentation, an empty block,
text left unquoted, a missing `,` `:` or bracket, two faults at once) and carries the
fix a person makes.

Each case is written to a temporary folder and repaired with backend `none`: by
default `rungs.deterministic.search` then `transaction.apply_fix` (the rung alone);
with `--through rung`, `rungs.deterministic.rung.try_deterministic`, which adds whatever guard the
product wires in front of the transaction. Outcomes, per class:

- fixed:   the file parses and has the same AST as the person's fix;
- refused: no write (the file goes on to the model or a person);
- wrong:   the file parses but means something else (target: <= 3 % overall);
- broken:  the file was changed and does not parse (target: 0).

Cases whose fault still parses (a NameError at run time, not a syntax error) are
listed apart: the rung never sees them. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_injection import same_program

from mechanic.detect.checkers import CheckerSet
from mechanic.detect.checkers.base import Checker
from mechanic.detect.discovery import Guard
from mechanic.repair.rungs.deterministic.search import search
from mechanic.write.transaction import apply_fix

CORPUS = Path(__file__).resolve().parent / "human_faults"
OUTCOMES = ("fixed", "refused", "wrong", "broken")
WRONG_TARGET = 0.03


@dataclass
class Case:
    number: int
    kind: str
    program: str
    language: str
    broken: str
    fixed: str


def _apply_edits(text: str, edits: list[list[str]], where: str) -> str:
    for find, replace in edits:
        if text.count(find) != 1:
            raise SystemExit(f"{where}: {find!r} occurs {text.count(find)} times, not once")
        text = text.replace(find, replace)
    return text


def load_cases(corpus: Path = CORPUS) -> list[Case]:
    data = tomllib.loads((corpus / "faults.toml").read_text("utf-8"))
    cases = []
    for number, entry in enumerate(data["case"], 1):
        program = entry["program"]
        # Stored as .txt so that the project's linters leave the programs alone.
        original = (corpus / "programs" / f"{program}.txt").read_text("utf-8")
        where = f"faults.toml case {number} ({program})"
        broken = _apply_edits(original, entry["edits"], where)
        fixed = _apply_edits(original, entry.get("fix", []), where)
        language = "python" if program.endswith(".py") else "javascript"
        cases.append(Case(number, entry["class"], program, language, broken, fixed))
    return cases


def repair(case: Case, checker: Checker, checkers: CheckerSet, folder: Path, through: str):
    folder.mkdir()
    if case.language == "javascript":
        (folder / "package.json").write_text("{}")
    target = folder / case.program
    broken = case.broken.encode("utf-8")
    target.write_bytes(broken)
    finding = checker.check_source(target, broken)
    if finding is None:
        return "parses as written", None, 0.0
    started = time.perf_counter()
    guard = Guard((), [folder])
    if through == "rung":
        from mechanic.repair.rungs.deterministic.rung import try_deterministic
        from mechanic.write.writer import Writer

        try_deterministic(target, finding, checkers, writer=Writer(folder / "backups", guard))
    else:
        fixed = search(case.broken, finding, checker, target)
        if fixed is not None:
            apply_fix(
                target,
                original=broken,
                fixed=fixed.encode("utf-8"),
                checker=checker,
                backup_dir=folder / "backups",
                guard=guard,
            )
    seconds = time.perf_counter() - started
    on_disk = target.read_bytes()
    if on_disk == broken:
        return "refused", None, seconds
    text = on_disk.decode("utf-8")
    if checker.check_source(target, on_disk) is not None:
        return "broken", text, seconds
    if same_program(case.language, case.fixed, text, None):
        return "fixed", text, seconds
    return "wrong", text, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--through", choices=("search", "rung"), default="search")
    parser.add_argument("--show", default="", help="print these outcomes' cases: wrong,broken")
    parser.add_argument("--out", type=Path, help="folder for human_faults.json")
    args = parser.parse_args(argv)
    show = set(filter(None, args.show.split(",")))
    cases = load_cases()
    table: dict[str, Counter[str]] = defaultdict(Counter)
    parsing: list[Case] = []
    times: list[float] = []
    report = []
    with CheckerSet() as checkers, tempfile.TemporaryDirectory(prefix="mechanic-human-") as tmp:
        for case in cases:
            checker = checkers.get(case.language)
            folder = Path(tmp) / f"case-{case.number}"
            outcome, text, seconds = repair(case, checker, checkers, folder, args.through)
            if outcome == "parses as written":
                parsing.append(case)
                continue
            times.append(seconds)
            table[case.kind][outcome] += 1
            report.append({"case": case.number, "class": case.kind, "outcome": outcome})
            if outcome in show:
                _show(case, outcome, text)
    cases_run = sum(sum(row.values()) for row in table.values())
    print(f"\nhuman faults through {args.through}: {cases_run} cases")
    print(f"  {'class':<24}{'cases':>6}" + "".join(f"{o:>9}" for o in OUTCOMES))
    total: Counter[str] = Counter()
    for kind in sorted(table):
        row = table[kind]
        total.update(row)
        cells = "".join(f"{row[o]:>9}" for o in OUTCOMES)
        print(f"  {kind:<24}{sum(row.values()):>6}{cells}")
    n = sum(total.values())
    print(f"  {'all':<24}{n:>6}" + "".join(f"{total[o]:>9}" for o in OUTCOMES))
    if n:
        wrong = total["wrong"] / n
        verdict = "OK" if wrong <= WRONG_TARGET else "OVER"
        print(
            f"  fixed {total['fixed'] / n:.1%}, refused {total['refused'] / n:.1%},"
            f" wrong {wrong:.1%} (target <= {WRONG_TARGET:.0%}: {verdict}),"
            f" broken {total['broken']} (must be 0)"
        )
        print(f"  time per case: median {sorted(times)[len(times) // 2] * 1000:.0f} ms")
    if parsing:
        listed = ", ".join(str(c.number) for c in parsing)
        print(f"  not a syntax error as written (never reach the rung): cases {listed}")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "human_faults.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _show(case: Case, outcome: str, text: str | None) -> None:
    import difflib

    print(f"\n--- case {case.number} ({case.kind}, {case.program}): {outcome}")
    for label, other in (("broken", case.broken), ("repaired", text)):
        if other is None:
            continue
        diff = difflib.unified_diff(case.fixed.splitlines(), other.splitlines(), "fix", label, n=0)
        print("\n".join(list(diff)[2:10]))


if __name__ == "__main__":
    sys.exit(main())
