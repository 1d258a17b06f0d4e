"""No import cycles among mechanic's and probes' modules, counting every import (also one
inside a function, which hides a cycle from import-linter's package view and from Python
until the function runs). import-linter's contracts in pyproject.toml cover the rest."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Cycles still to break: none left. Should one have to be tolerated for a while, list its
# modules here as a set, with the reason, and delete the entry when it is gone.
REMAINING: list[set[str]] = []


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each module of mechanic/ and probes/ -> the modules of theirs it imports."""
    files = {}
    for path in sorted([*(root / "mechanic").rglob("*.py"), *(root / "probes").rglob("*.py")]):
        parts = path.relative_to(root).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_bytes())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pkg import mod` depends on mod; `from mod import name` on mod.
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in files else node.module
                    for a in node.names
                ]
            else:
                continue
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
    return found


def test_no_import_cycle_beyond_the_listed_ones_that_are_being_broken():
    unexpected = [
        sorted(c) for c in cycles(import_graph(REPO)) if not any(c <= r for r in REMAINING)
    ]
    assert unexpected == [], f"new import cycles: {unexpected}"


def test_the_cycle_finder_finds_a_cycle_through_an_import_inside_a_function(tmp_path):
    (tmp_path / "mechanic").mkdir()
    (tmp_path / "probes").mkdir()
    (tmp_path / "mechanic" / "a.py").write_text("from mechanic import b\n")
    (tmp_path / "mechanic" / "b.py").write_text("def f():\n    from mechanic.c import x\n")
    (tmp_path / "mechanic" / "c.py").write_text("import mechanic.a\n")
    (tmp_path / "probes" / "d.py").write_text("import mechanic.a\n")
    assert cycles(import_graph(tmp_path)) == [{"mechanic.a", "mechanic.b", "mechanic.c"}]


def test_a_module_taking_a_sibling_from_its_package_is_no_cycle(tmp_path):
    (tmp_path / "probes").mkdir()
    store = tmp_path / "mechanic" / "store"
    store.mkdir(parents=True)
    (store / "__init__.py").write_text("from mechanic.store.core import Store\n")
    (store / "core.py").write_text("from mechanic.store import schema\n")
    (store / "schema.py").write_text("VERSION = 1\n")
    assert cycles(import_graph(tmp_path)) == []
    (store / "schema.py").write_text("from mechanic.store import Store\n")  # through __init__
    assert cycles(import_graph(tmp_path)) == [
        {"mechanic.store", "mechanic.store.core", "mechanic.store.schema"}
    ]
