"""Counts read as English: "1 app online", "2 apps online", never "1 app(s)"
or "(1 models)" (issue 13, the morning after)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mechanic.plural import plural

ROOT = Path(__file__).resolve().parent.parent


def test_one_is_singular_and_any_other_count_plural():
    assert plural(1, "app") == "1 app"
    assert [plural(n, "app") for n in (0, 2, 10)] == ["0 apps", "2 apps", "10 apps"]
    assert plural(1, "matching line") == "1 matching line"
    assert plural(3, "process", "processes") == "3 processes"
    assert plural(1, "process", "processes") == "1 process"


def test_no_message_hedges_its_plural():
    """No string mechanic prints says "app(s)" or "process(es)": a count is given
    its noun through `plural`."""
    hedged = re.compile(r"\w\((s|es)\)")
    found = []
    for package in ("mechanic", "probes"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            docstrings = {
                id(node.body[0].value)
                for node in ast.walk(tree)
                if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
                and node.body
                and isinstance(node.body[0], ast.Expr)
            }
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in docstrings
                    and hedged.search(node.value)
                ):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert found == []
