"""Edits that parse but change what the code means: refused before they are tried.

A syntax fix adds, moves or changes punctuation. Measured on real human faults, the
wrong fixes the search used to find were all of a few shapes, each refused here:

- an operator or operand dropped: `if !done` -> `if done`, `return x *` -> `return x`,
  `a||b` -> `a|b`, `5(%5)` -> `5(5)`; an operator replaced by punctuation:
  `return acc += v` -> `return acc, v`;
- a keyword or a name deleted: `raise X, "msg"` -> `X, "msg"`;
- two words merged by a deletion: `range(2:8)` -> `range(28)`;
- a tuple or comma expression made where there was none: `print total` ->
  `print, total`, `while (k  10 > 0)` -> `while (k, 10 > 0)`;
- an assignment in a condition: `if n = 0` -> `if n := 0`;
- an empty `()`, `[]` or `{}` as an operand: `x *` -> `x * ()`;
- after parsing: a compiler warning (`10(10)`: int is not callable), a tuple as a
  statement, condition or raised value, or an undefined name on an edited line
  (`count(type a word)` -> `count(type, a, word)`).

The idioms of `human.py` are exempt from the token rules (they replace operators on
purpose) but not from the checks after parsing.
"""

from __future__ import annotations

import ast
import bisect
import warnings
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from mechanic.detect.checkers.base import Checker
from mechanic.repair.rungs.deterministic.tokens import CLOSERS, OPENERS, Token, line_starts

if TYPE_CHECKING:
    from mechanic.repair.rungs.deterministic.generator import Edit, Generator

_PUNCTUATION = frozenset(",;:.")
_DELETABLE = frozenset(",;:.\\'\"`") | frozenset(OPENERS) | frozenset(CLOSERS)
_PY_LIST_STATEMENTS = frozenset(
    ["import", "from", "global", "nonlocal", "del", "assert", "with", "except", "for", "print"]
)
_JS_LIST_STATEMENTS = frozenset(["var", "let", "const", "for", "import", "export"])
_GROUP_AFTER = frozenset(
    [
        "if",
        "elif",
        "while",
        "assert",
        "return",
        "and",
        "or",
        "not",
        "in",
        "is",
        "yield",
        "await",
        "else",
        "lambda",
        "case",
        "switch",
        "typeof",
        "void",
        "delete",
        "throw",
        "new",
    ]
)
_EMPTY_PAIRS = ("()", "[]", "{}")
# In Python, a parenthesised group after these is as often a tuple as not; after a
# condition's keyword or an operator it is an operand (`while (k  10 > 0)`).
_TUPLE_ENDS = frozenset((")", "]", "}", ",", ":", ";", "=", "in", "for", "if", "else"))
_TUPLE_AFTER = frozenset(("=", "(", "[", "{", ",", ":", "return", "yield", "in", "->"))
_COMPARISONS = frozenset(("==", "===", "!=", "!==", "<=", ">="))


class Structure:
    """The bracket structure of a text's tokens, for asking what encloses an offset."""

    def __init__(self, g: Generator) -> None:
        self.g = g
        self.tokens = g.tokens
        self.starts = [t.start for t in g.tokens]
        self.ends = [t.end for t in g.tokens]
        self.context: list[int] = []  # innermost open bracket after each token, or -1
        self.match: dict[int, int] = {}  # opener index -> closer index
        stack: list[int] = []
        self.assignments: set[int] = set()  # offsets of `=` in a JS condition near the error
        if not g.python:
            from mechanic.repair.rungs.deterministic.human import condition_assignments

            for line in range(max(1, g.line - 2), g.line + 1):
                tokens = g.tokens_on(line)
                self.assignments.update(t.start for t in condition_assignments(tokens))
        for i, token in enumerate(self.tokens):
            g.tick()
            if token.kind == "op" and token.text in OPENERS:
                stack.append(i)
            elif token.kind == "op" and token.text in CLOSERS and stack:
                self.match[stack.pop()] = i
            self.context.append(stack[-1] if stack else -1)

    def before(self, offset: int) -> int:
        """Index of the last token ending at or before `offset` (-1: none)."""
        return bisect.bisect_right(self.ends, offset) - 1

    def enclosing(self, offset: int) -> int:
        last = self.before(offset)
        return self.context[last] if last >= 0 else -1

    def statement_first(self, offset: int) -> Token | None:
        """The first token of the line holding `offset`."""
        line = self.g.line_of(offset)
        tokens = self.g.tokens_on(line)
        return tokens[0] if tokens else None


def implausible(g: Generator, structure: Structure, edit: Edit) -> str | None:
    """Why `edit` would change the meaning rather than fix the syntax, or None."""
    if edit in g.trusted:
        return None
    replaced = {a for a, b, new in edit if a < b}
    if structure.assignments - replaced:
        return "leaves an assignment in a condition"  # `if (n = 0 {`: `===` was meant
    deleted = [g.text[a:b].strip() for a, b, new in edit if a < b and not new]
    if any(d in OPENERS for d in deleted) and any(d in CLOSERS for d in deleted):
        return "deletes a pair of brackets"  # `5(%5)` -> `5%5` regroups an expression
    for start, end, new in edit:
        if ((start, end, new),) in g.trusted:
            continue
        removed = g.text[start:end]
        why = _span(g, structure, start, end, removed, new)
        if why:
            return why
    return None


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _span(g: Generator, s: Structure, start: int, end: int, removed: str, new: str) -> str | None:
    text = g.text
    if not removed.strip() and not new.strip():
        return None  # indentation
    if removed and not new:
        if removed.strip() not in _DELETABLE:
            return f"deletes {removed.strip()!r}"
        if start > 0 and end < len(text) and _word(text[start - 1]) and _word(text[end]):
            return "merges two words"
        following = text[end : end + 200].lstrip()
        if removed.strip() in OPENERS and following[:1] in (*CLOSERS, ","):
            return "drops an operand"  # `f(a, [)` -> `f(a, )`: the `[]` was an argument
        return None
    if removed and new:
        old, fresh = removed.strip(), new.strip()
        if old.isidentifier() and fresh in g.keywords and old not in g.keywords:
            return None  # a misspelt keyword
        same_kind = (
            (old in _PUNCTUATION and fresh in _PUNCTUATION)
            or (old in CLOSERS and fresh in CLOSERS)
            or (old in OPENERS and fresh in OPENERS)
        )
        if not same_kind:
            return f"replaces {old!r} with {fresh!r}"
        if fresh == ",":
            return _comma(g, s, start)
        return None
    # An insertion.
    if new == ";" and not g.python and _idle_rest(g, end):
        return "splits off a statement that does nothing"  # `return a b` -> `return a; b`
    if new == ":" and text.startswith("=", end) and not text.startswith("==", end):
        return "makes an assignment expression"
    if "," in new:
        why = _comma(g, s, start)
        if why:
            return why
    if new in _EMPTY_PAIRS or (new in CLOSERS and _opens_just_before(text, start, new)):
        before = text[: start if new in _EMPTY_PAIRS else _opener_at(text, start)].rstrip()
        if not before or not (_word(before[-1]) or before[-1] in ")]"):
            return "adds an empty operand"
        if before.split()[-1] in g.keywords:
            return "adds an empty operand"
    return None


def _idle_rest(g: Generator, offset: int) -> bool:
    """Whether the code after `offset` on its line, up to a `;`, is an expression
    without effect: names, members, literals and operators, but no call, assignment,
    update or keyword."""
    line = g.line_of(offset)
    rest = [t for t in g.tokens_on(line) if t.start >= offset]
    seen = False
    for token in rest:
        if token.text in (";", "}"):
            break
        seen = True
        assigns = token.text.endswith("=") and token.text not in _COMPARISONS
        if token.text in ("(", "++", "--") or assigns:
            return False
        if token.kind == "name" and token.text in g.keywords:
            return False
    return seen


def _is_block(s: Structure, opener: int) -> bool:
    """A JS `{` that opens statements rather than an object literal."""
    if s.tokens[opener].text != "{":
        return False
    if opener == 0:
        return True
    before = s.tokens[opener - 1]
    if before.text in (")", "=>", ";", "{", "}"):
        return True
    return before.kind == "name" and before.text in ("else", "try", "finally", "do")


def _opens_just_before(text: str, offset: int, closer: str) -> bool:
    before = text[:offset].rstrip()
    return bool(before) and before[-1] == CLOSERS[closer]


def _opener_at(text: str, offset: int) -> int:
    return len(text[:offset].rstrip()) - 1


def _comma(g: Generator, s: Structure, offset: int) -> str | None:
    """A comma inserted at `offset` lists things where a list is allowed (a call's or a
    definition's arguments, a list, a dict, a `with`, an `import`), never where it makes a
    tuple or comma expression of a condition, a statement or a parenthesised group."""
    opener = s.enclosing(offset)
    keywords = g.keywords
    if opener >= 0 and not g.python and _is_block(s, opener):
        opener = -1  # a function's or an `if`'s braces hold statements, like the top level
    if opener < 0:
        first = s.statement_first(offset)
        line = g.line_of(offset)
        if first is not None and first.text in (
            _PY_LIST_STATEMENTS if g.python else _JS_LIST_STATEMENTS
        ):
            return None
        tokens = g.tokens_on(line)
        top = [t for t in tokens if s.enclosing(t.start) < 0 or t.start == offset]
        if any(t.text == "," for t in top):
            return None  # already a list: `a, b = 1 2`
        if g.python and any(t.text == "=" and t.start >= offset for t in top):
            return None  # unpacking targets: `a b = pair`
        return "makes a tuple of a statement" if g.python else "makes a comma expression"
    token = s.tokens[opener]
    if token.text != "(":
        return None
    before = s.tokens[opener - 1] if opener > 0 else None
    call = before is not None and (
        (before.kind == "name" and before.text not in keywords and before.text not in _GROUP_AFTER)
        or before.text in (")", "]")
        or before.kind == "str"
        or (before.kind == "name" and before.text in ("function", "def", "lambda"))
    )
    if call:
        return None
    if not g.python and before is not None and before.text == "for":
        return None
    closer = s.match.get(opener)
    after = s.tokens[closer + 1] if closer is not None and closer + 1 < len(s.tokens) else None
    ends = (
        closer is None  # then after is None too
        or after is None
        or after.line != s.tokens[closer].line
        or after.text in _TUPLE_ENDS
    )
    if g.python and (before is None or before.text in _TUPLE_AFTER) and ends:
        return None  # `x = (1 2)`, `return (a b)`: a tuple that lost its comma
    if closer is not None:
        if closer + 1 < len(s.tokens) and s.tokens[closer + 1].text == "=>":
            return None  # arrow parameters
        inside = range(opener + 1, closer)
        if any(s.tokens[k].text == "," and s.context[k] == opener for k in inside):
            return None  # already a tuple
    return "makes a tuple of a parenthesised expression"


# --- after parsing ----------------------------------------------------------------------


Parsed = tuple[ast.Module, list[str]]


def python_parse(text: str, path: Path) -> Parsed | None:
    """The tree of `text` and its compiler warnings (other than old-style escapes), or
    None when it does not compile. One parse serves both the validity check and the
    meaning checks: on a big file each parse costs tens of milliseconds."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tree = ast.parse(text, str(path))
            compile(tree, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found = [
        str(w.message)
        for w in caught
        if issubclass(w.category, SyntaxWarning) and "escape sequence" not in str(w.message)
    ]
    return tree, found


def edited_lines(text: str, edit: Edit) -> set[int]:
    """Lines of the edited text that an edit touched (1-based)."""
    lines: set[int] = set()
    shift = 0
    for start, end, new in sorted(edit):
        first = text.count("\n", 0, start) + 1 + shift
        lines.update(range(first, first + new.count("\n") + 1))
        shift += new.count("\n") - text.count("\n", start, end)
    return lines


def meaning_refusal(
    language: str,
    broken: str,
    fixed: str,
    edit: Edit,
    path: Path,
    checker: Checker,
    *,
    static: bool = True,
    parsed: Parsed | None = None,
) -> str | None:
    """Why a parsing candidate still means something the author did not write."""
    lines = edited_lines(broken, edit)
    if language == "python":
        parsed = parsed or python_parse(fixed, path)
        if parsed is None:
            return "does not compile"
        tree, found = parsed
        if found:
            return f"the compiler warns: {found[0]}"
        why = _tuple_made(tree, lines, fixed.split("\n"))
        if why:
            return why
    if static:
        from mechanic.detect.static import static_errors

        fixed_tree = parsed[0] if language == "python" and parsed is not None else None
        errors = static_errors(language, fixed, path, checker=checker, tree=fixed_tree) or []
        placed = _placed(broken, edit)
        starts = line_starts(fixed)
        for message, line, column in errors:
            if line not in lines or column is None or not 1 <= line <= len(starts):
                continue
            at = starts[line - 1] + column - 1
            name = _quoted_name(message)
            if name and _touches(fixed, at, at + len(name), placed):
                return f"makes an undefined name next to the edit ({message})"
    return None


def _placed(text: str, edit: Edit) -> list[tuple[int, int]]:
    """Where each span of `edit` lies in the edited text."""
    out, shift = [], 0
    for start, end, new in sorted(edit):
        out.append((start + shift, start + shift + len(new)))
        shift += len(new) - (end - start)
    return out


def _quoted_name(message: str) -> str | None:
    first = message.find("'")
    last = message.find("'", first + 1)
    return message[first + 1 : last] if 0 <= first < last else None


def _touches(text: str, start: int, end: int, placed: list[tuple[int, int]]) -> bool:
    """Whether the name at text[start:end] borders an edit (blanks between allowed):
    `count(type a word)` -> `count(type, a, word)` made `a` and `word` names."""
    for a, b in placed:
        if b <= start and not text[b:start].strip():
            return True
        if a >= end and not text[end:a].strip():
            return True
    return False


def _near(tree: ast.AST, lines: set[int]) -> Iterator[ast.AST]:
    """The nodes of `tree` whose lines reach an edited line: a subtree wholly above or
    below the edit is skipped, so a fix on a 40,000-statement file walks a few nodes,
    not all of them. A node's decorators sit above its own line and count as its."""
    first, last = min(lines), max(lines)
    todo = deque([tree])  # breadth first, as ast.walk: the same first reason
    while todo:
        node = todo.popleft()
        start = getattr(node, "lineno", None)
        if start is not None:
            for decorator in getattr(node, "decorator_list", ()):
                start = min(start, decorator.lineno)
            end = getattr(node, "end_lineno", None) or start
            if end < first or start > last:
                continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def _tuple_made(tree: ast.AST, lines: set[int], source: list[str]) -> str | None:
    if not lines:
        return None
    for node in _near(tree, lines):
        value = None
        if isinstance(node, ast.Expr):
            value = node.value
        elif isinstance(node, (ast.If, ast.While, ast.Assert, ast.IfExp)):
            value = node.test
        elif isinstance(node, ast.Raise):
            value = node.exc
        if isinstance(value, ast.Tuple):
            span = set(range(value.lineno, (value.end_lineno or value.lineno) + 1))
            if span & lines:
                return "makes a tuple of a statement, condition or raised value"
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)):
            value = node.value
            if isinstance(value, ast.Tuple) and len(value.elts) == 1:
                span = set(range(value.lineno, (value.end_lineno or value.lineno) + 1))
                line = source[value.lineno - 1] if value.lineno <= len(source) else ""
                bare = line.encode()[value.col_offset : value.col_offset + 1] != b"("
                if bare and span & lines:
                    return "makes a one-element tuple"  # `x = f(a),` after a closer moved
    return None
