"""Finding the unit around an error in a file that does not parse, and taking a
model's block answer back: what is spliced in, what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechanic.repair.answer import Rejected, block_from_answer
from mechanic.repair.blocks import Block, _ends_by_indent, find_block, imports_and_names, splice

PY = """\
import os
from sys import argv

LIMIT = 10


@cache
@trace(level=2)
def outer(a,
          b):
    def inner():
        return (a
    return inner


class Shape:
    sides = 0

    def area(self):
        if self.sides:
            return 1
        return 0

    class Meta:
        def name(self):
            return "shape"
    '''
A docstring at column 0:
def not_a_function():
'''


print(outer(1, 2))
"""


def lines_of(text: str) -> list[str]:
    return text.split("\n")


def block_text(text: str, block: Block) -> list[str]:
    return lines_of(text)[block.start : block.end]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(lines_of(text)) if needle in line)


@pytest.mark.parametrize(
    ("needle", "first", "last"),
    [
        ("return (a", "    def inner():", "        return (a"),  # nested function
        ("return inner", "@cache", "    return inner"),  # decorators and a split signature
        ("return 1", "    def area(self):", "        return 0"),  # a method
        ('return "shape"', "        def name(self):", '            return "shape"'),
        ("sides = 0", "class Shape:", "'''"),  # class body: the class, string and all
    ],
)
def test_python_units_are_the_innermost_def_or_class(needle, first, last):
    block = find_block(lines_of(PY), "python", [line_of(PY, needle)])
    got = block_text(PY, block)
    assert block.kind == "unit"
    assert (got[0], got[-1]) == (first, last)


def test_a_def_inside_a_string_is_not_a_unit():
    block = find_block(lines_of(PY), "python", [line_of(PY, "def not_a_function")])
    assert block_text(PY, block)[0] == "class Shape:"


def test_top_level_code_gets_a_window_of_whole_statements():
    block = find_block(lines_of(PY), "python", [line_of(PY, "print(outer")])
    got = block_text(PY, block)
    assert block.kind == "window"
    assert got[-1] == "print(outer(1, 2))"
    assert "class Shape:" not in got  # a big neighbour is not pulled in


def test_a_unit_too_long_is_narrowed_to_a_window_inside_it():
    body = "".join(f"    v{n} = {n}\n" for n in range(300))
    text = f"def huge():\n{body}    broken = (\n    return v1\n"
    error = line_of(text, "broken = (")
    block = find_block(lines_of(text), "python", [error], max_lines=60)
    assert block.kind == "window" and block.size <= 60
    assert block.start <= error < block.end


def test_focus_lines_far_apart_widen_the_block_to_hold_both():
    text = PY
    block = find_block(
        lines_of(text), "python", [line_of(text, "return 1"), line_of(text, "class Meta")]
    )
    assert block_text(text, block)[0] == "class Shape:"


JS = """\
const fs = require('fs');
const pattern = /[{]+}/g;  // a regex with braces
const note = `total: ${ {a: 1}.a } }`;

function process(input) {
  // a comment with a brace {
  const result = [1, 2, 3].map((x) => x * 2));
  return result + "}";
}

class Store {
  constructor() {
    this.items = [];
  }

  add(item) {
    this.items.push(item);
  }
}

const handler = async (req) => {
  return req.body;
};

module.exports = { process, Store };
"""


@pytest.mark.parametrize(
    ("needle", "first", "last"),
    [
        ("map((x)", "function process(input) {", "}"),
        ("this.items.push", "  add(item) {", "  }"),
        ("this.items = []", "  constructor() {", "  }"),
        ("return req.body", "const handler = async (req) => {", "};"),
    ],
)
def test_javascript_units_match_braces_outside_strings_comments_and_regexes(needle, first, last):
    block = find_block(lines_of(JS), "javascript", [line_of(JS, needle)])
    got = block_text(JS, block)
    assert block.kind == "unit"
    assert (got[0], got[-1]) == (first, last)


def test_a_missing_brace_falls_back_to_indentation():
    text = JS.replace("    this.items.push(item);\n  }\n", "    this.items.push(item);\n\n")
    block = find_block(lines_of(text), "javascript", [line_of(text, "this.items.push")])
    got = block_text(text, block)
    assert got[0] == "  add(item) {"
    assert "const handler = async (req) => {" not in got


def test_imports_and_names_describe_the_rest_of_the_file():
    lines = lines_of(PY)
    block = find_block(lines, "python", [line_of(PY, "return 1")])
    imports, names = imports_and_names(lines, "python", block)
    assert imports == ["import os", "from sys import argv"]
    assert {"LIMIT", "outer", "Shape"} <= set(names)
    js_imports, js_names = imports_and_names(lines_of(JS), "javascript", Block(4, 9, "unit"))
    assert js_imports == ["const fs = require('fs');"]
    assert {"pattern", "Store", "handler"} <= set(js_names) and "process" not in js_names


# --- taking a block answer back ---------------------------------------------

FILE = ["def a():", "    return 1", "", "def b():", "    return (2", "", "def c():", "    return 3"]
B = Block(3, 5, "unit")


def test_a_block_answer_is_spliced_in_place():
    got = block_from_answer("def b():\n    return (2)\n", FILE, 3, 5, done_reason="stop")
    assert splice(FILE, B, got).split("\n") == [*FILE[:4], "    return (2)", *FILE[5:]]


def test_a_flush_left_method_gets_its_indentation_back():
    lines = ["class K:", "    def m(self):", "        return (1", "", "x = 1"]
    got = block_from_answer("def m(self):\n    return (1)", lines, 1, 3, done_reason="stop")
    assert got == "    def m(self):\n        return (1)"


def test_tabs_in_a_block_are_kept():
    lines = ["class K:", "\tdef m(self):", "\t\treturn (1", "", "x = 1"]
    got = block_from_answer("\tdef m(self):\n\t\treturn (1)", lines, 1, 3, done_reason="stop")
    assert got == "\tdef m(self):\n\t\treturn (1)"


def test_the_whole_file_echoed_back_unchanged_outside_the_block_is_accepted():
    answer = "\n".join([*FILE[:4], "    return (2)", *FILE[5:]])
    got = block_from_answer(f"```python\n{answer}\n```", FILE, 3, 5, done_reason="stop")
    assert got == "def b():\n    return (2)"


@pytest.mark.parametrize(
    "answer",
    [
        "def b():\n    return (2)\n\ndef c():\n    return 3\n",  # runs into the next unit
        "    return 1\n\ndef b():\n    return (2)\n",  # starts in the unit above
        "\n".join(["def a():", "    return 100", "", "def b():", "    return (2)", *FILE[5:]]),
    ],
    ids=["past-the-end", "before-the-start", "changes-outside"],
)
def test_an_answer_straying_outside_its_block_is_refused(answer):
    with pytest.raises(Rejected, match="outside its block"):
        block_from_answer(answer, FILE, 3, 5, done_reason="stop")


def test_a_block_rewritten_into_something_else_is_refused(tmp_path):
    # The block answer itself is well formed; the meaning guard, which judges every
    # rung's candidate by its diff, refuses the new calls.
    from mechanic.detect.checkers.base import Finding
    from mechanic.repair.guard import meaning

    answer = "def b():\n" + "".join(f"    step{n}()\n" for n in range(12)) + "    return 2\n"
    block = block_from_answer(answer, FILE, 3, 5, done_reason="stop")
    finding = Finding(tmp_path / "x.py", "python", 5, 12, "SyntaxError: '(' was never closed")
    reason = meaning.refusal(
        "\n".join(FILE),
        splice(FILE, B, block),
        language="python",
        finding=finding,
        baseline=None,
        max_file_kb=1024,
    )
    assert reason is not None and "(added-code)" in reason


def test_a_cut_off_block_answer_is_refused():
    with pytest.raises(Rejected, match="cut off"):
        block_from_answer("def b():\n    return (2)", FILE, 3, 5, done_reason="length")


# --- unit ends in one pass -------------------------------------------------------


def _end_by_indent_reference(lines, code, indent, h, inside):
    """The rule, one header at a time (what blocks.py did before, quadratic in depth)."""
    last = h
    for j in range(h + 1, len(lines)):
        if inside[j]:
            last = j
            continue
        if not code[j]:
            continue
        if indent[j] <= indent[h]:
            opener = lines[j].lstrip()[:1]
            if indent[j] == indent[h] and opener in (")", "]", "}"):
                last = j
                if opener == "}":
                    break
                continue
            break
        last = j
    return last + 1


LINE = st.tuples(
    st.integers(0, 4), st.sampled_from(["x", "def f(", ")", "]", "}", "if a {", "", "# c"])
)


@settings(max_examples=300)
@given(st.lists(st.tuples(LINE, st.booleans(), st.booleans()), max_size=30))
def test_unit_ends_in_one_pass_follow_the_one_header_rule(rows):
    lines = ["  " * depth + text for (depth, text), _, _ in rows]
    inside = [flag for _, flag, _ in rows]
    code = [bool(line.strip()) and not flag for line, flag in zip(lines, inside, strict=True)]
    heads = [h for h, (_, _, head) in enumerate(rows) if head and code[h]]
    indent = [len(line) - len(line.lstrip()) for line in lines]
    ends = _ends_by_indent(lines, code, indent, heads, inside)
    assert ends == {h: _end_by_indent_reference(lines, code, indent, h, inside) for h in heads}


def test_deeply_nested_units_each_end_where_their_body_does():
    lines = [" " * d + f"def f{d}():" for d in range(1000)] + [" " * 1000 + "pass", "y = 1"]
    found = find_block(lines, "python", [1000])
    assert (found.start, found.end, found.header) == (999, 1001, "def f999")
