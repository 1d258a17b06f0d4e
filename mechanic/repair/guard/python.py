"""Python-only rules: tuple, indentation and syntax-warning."""

from __future__ import annotations

import ast
import re
import warnings
from collections import Counter
from pathlib import Path

from mechanic.detect.checkers.base import Finding
from mechanic.repair.baseline import Baseline
from mechanic.repair.guard.hunks import INDENTED_BLOCK, Hunk, Refusal
from mechanic.repair.rungs.deterministic.tokens import (
    line_starts,
)

# --- Python ---------------------------------------------------------------------------


def offsets(text: str):
    """(lineno, utf-8 col) as ast reports them -> code point offset in `text`."""
    starts = line_starts(text)
    lines = text.split("\n")

    def at(lineno: int, col: int) -> int:
        line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
        if line.isascii():
            return starts[lineno - 1] + col
        return starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", "ignore"))

    return at


def parse(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return None


TUPLE_FORBIDDEN = (
    (ast.If, "test", "condition"),
    (ast.While, "test", "condition"),
    (ast.Assert, "test", "assertion"),
    (ast.IfExp, "test", "condition"),
    (ast.Return, "value", "return value"),
    (ast.Expr, "value", "statement"),
    (ast.Call, "func", "call"),
)


def python_tuples(hunks: list[Hunk], candidate: str) -> Refusal | None:
    inserted = [
        t.start
        for hunk in hunks
        for t in hunk.new
        if t.text == ","
        and sum(o.text == "," for o in hunk.old) < sum(n.text == "," for n in hunk.new)
    ]
    colons = {t.start for hunk in hunks for t in hunk.new if t.text == ":"}
    if not inserted and not colons:
        return None
    tree = parse(candidate)
    if tree is None:
        return None
    at = offsets(candidate)
    inserted_set = set(inserted)
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and node.value is None and colons and not a_type(node):
            colon = candidate.find(
                ":", at(node.target.end_lineno or 1, node.target.end_col_offset or 0)
            )
            if colon in colons:
                return Refusal(
                    "tuple", f"it turns the statement on line {node.lineno} into an annotation"
                )
        for kind, field, what in TUPLE_FORBIDDEN:
            if not isinstance(node, kind):
                continue
            value = getattr(node, field, None)
            if isinstance(node, ast.Compare | ast.BoolOp):
                continue
            if isinstance(value, ast.Tuple) and all_commas_new(value, candidate, at, inserted_set):
                return Refusal("tuple", f"it turns a {what} into a tuple (line {node.lineno})")
        if isinstance(node, ast.Compare | ast.BoolOp):
            parts = [node.left, *node.comparators] if isinstance(node, ast.Compare) else node.values
            for part in parts:
                if isinstance(part, ast.Tuple) and all_commas_new(
                    part, candidate, at, inserted_set
                ):
                    return Refusal(
                        "tuple", f"it turns a comparison into a tuple (line {node.lineno})"
                    )
    return None


TYPE_NAMES = frozenset({"int", "str", "float", "bool", "bytes", "list", "dict", "set", "tuple"})


def a_type(node: ast.AnnAssign) -> bool:
    """`model: Required[str]` is a field declared; `print: total` is not."""
    if isinstance(node.target, ast.Name) and node.target.id in ("print", "exec"):
        return False
    note = node.annotation
    if isinstance(note, ast.Name):
        return note.id[:1].isupper() or note.id in TYPE_NAMES
    return isinstance(note, ast.Subscript | ast.Attribute | ast.Constant | ast.BinOp)


def all_commas_new(node: ast.Tuple, text: str, at, inserted: set[int]) -> bool:
    commas = []
    for left, right in zip(node.elts, node.elts[1:], strict=False):
        start = at(left.end_lineno or left.lineno, left.end_col_offset or 0)
        end = at(right.lineno, right.col_offset)
        comma = text.find(",", start, end)
        if comma >= 0:
            commas.append(comma)
    if len(node.elts) == 1:  # `x,`: the one trailing comma
        end = at(node.end_lineno or node.lineno, node.end_col_offset or 0)
        comma = text.rfind(",", 0, end)
        commas.append(comma)
    return bool(commas) and all(c in inserted for c in commas)


def python_indentation(broken: str, candidate: str, finding: Finding) -> Refusal | None:
    """An empty block is not filled by pulling the next statement into it: a line at the
    header's level that stays followed by its siblings, or that uses nothing the header
    binds, was never the block's body (the author writes `pass`)."""
    match = INDENTED_BLOCK.search(finding.message)
    if match is None:
        return None
    header_at = int(match.group(2)) - 1
    old, new = broken.split("\n"), candidate.split("\n")
    if len(old) != len(new) or not 0 <= header_at < len(old):
        return None
    header = old[header_at]
    level = indent(header)
    moved = [
        i
        for i in range(header_at + 1, len(old))
        if old[i].strip() and new[i].strip() and indent(new[i]) > indent(old[i])
    ]
    if not moved or indent(old[moved[0]]) > level:
        return None
    last = moved[0]
    while last + 1 < len(old) and (last + 1 in moved or not old[last + 1].strip()):
        last += 1
    following = next((i for i in range(last + 1, len(old)) if old[i].strip()), None)
    first = moved[0] + 1
    if re.match(r"(async\s+)?(def|class)\b", header.strip()):
        return None  # a def or class is never left empty: its body lost its indentation
    if following is not None and indent(old[following]) == indent(old[moved[0]]):
        return Refusal(
            "indentation",
            f"it indents line {first} into the empty block of line {header_at + 1} and leaves"
            " the lines after it outside: an empty block needs `pass`",
        )
    bound = header_names(header.strip())
    body = "\n".join(new[moved[0] : last + 1])
    if bound and not any(re.search(rf"\b{re.escape(n)}\b", body) for n in bound):
        return Refusal(
            "indentation",
            f"it indents line {first} into the block of line {header_at + 1}, but that line"
            f" uses nothing the block binds ({', '.join(sorted(bound))}):"
            " an empty block needs `pass`",
        )
    return None


def indent(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def header_names(header: str) -> set[str]:
    """Names a block header binds: a for loop's targets, `with ... as` names."""
    tree = parse(header + "\n    pass\n")
    if tree is None or not tree.body:
        return set()
    node = tree.body[0]
    names: set[str] = set()
    if isinstance(node, ast.For | ast.AsyncFor):
        names = {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    elif isinstance(node, ast.With | ast.AsyncWith):
        for item in node.items:
            if item.optional_vars is not None:
                names |= {n.id for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)}
    return names


def python_warnings(
    candidate: str, changed: set[int], baseline: Baseline | None, path: Path
) -> Refusal | None:
    had = syntax_warnings(baseline.text, path) if baseline is not None else []
    old = Counter(message for message, _ in had)
    for message, line in syntax_warnings(candidate, path):
        if line in changed and not old[message]:
            return Refusal("syntax-warning", f"Python warns about line {line}: {message}")
    return None


def syntax_warnings(text: str, path: Path) -> list[tuple[str, int]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            compile(text, str(path), "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError):
            return []
    return [
        (str(w.message), int(w.lineno or 0))
        for w in caught
        if issubclass(w.category, SyntaxWarning)
    ]
