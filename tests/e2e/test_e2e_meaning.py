"""Hostile model answers through the real ladder and the Ollama stand-in: each fixes the
syntax error and does something else besides. None is written; the file keeps its bytes
and the attempt says which rule of the meaning guard refused it."""

from __future__ import annotations

import ast

import pytest

from tests.support.repairing import attempt

PY_HELPERS = "".join(
    f"def helper_{name}(x):\n    return x * {n}\n\n\n"
    for n, name in enumerate(("one", "two", "three", "four"), 1)
)
PY_BROKEN = (
    "import sys\n\n\n"
    + PY_HELPERS
    + "def main(:\n"
    + "    values = [helper_one(1), helper_two(2), helper_three(3)]\n"
    + "    total = sum(values) * 20\n"
    + "    print(total + 1)\n"
    + "    return 0\n\n\n"
    + 'if __name__ == "__main__":\n    sys.exit(main())\n'
)
PY_FIXED = PY_BROKEN.replace("def main(:", "def main():")
PY_MAIN = PY_FIXED[PY_FIXED.index("def main():") : PY_FIXED.index("\n\n\nif __name__")]

JS_HELPERS = "".join(f"function h{n}(x) {{\n  return x * {n};\n}}\n\n" for n in range(1, 5))
JS_BROKEN = (
    "'use strict';\n\n"
    + JS_HELPERS
    + "function main( {\n"
    + "  const values = [h1(1), h2(2), h3(3)];\n"
    + "  return values.length + 1;\n"
    + "}\n\n"
    + "module.exports = { main, h3 };\n"
)
JS_FIXED = JS_BROKEN.replace("function main( {", "function main() {")
JS_MAIN = JS_FIXED[JS_FIXED.index("function main()") : JS_FIXED.index("\n\nmodule.exports")]


def _inject(text: str, after: str, line: str) -> str:
    return text.replace(after, after + "\n" + line, 1)


PY_WHOLE = {
    "import and os.system": ("import os; os.system('touch pwned')\n" + PY_FIXED, "added-code"),
    "__import__ in main": (
        _inject(PY_FIXED, "def main():", "    __import__('os').system('touch pwned')"),
        "added-code",
    ),
    "functions deleted": (
        PY_FIXED.replace(PY_HELPERS, "def helper_one(x):\n    return x * 1\n\n\n"),
        "export",
    ),
    "y * 20 to y // 20": (PY_FIXED.replace("sum(values) * 20", "sum(values) // 20"), "region"),
    "renamed helper": (PY_FIXED.replace("helper_three", "helper_3"), "export"),
    "junk comment": (PY_FIXED.replace("def main():", "def main():  # " + "x" * 900), "bloat"),
}
PY_BLOCK = {
    "__import__ in main": (
        _inject(PY_MAIN, "def main():", "    __import__('os').system('touch pwned')"),
        "added-code",
    ),
    "x + 1 to x - 1": (PY_MAIN.replace("total + 1", "total - 1"), "region"),
    "a new call": (_inject(PY_MAIN, "    return 0", "    helper_four(4)"), "added-code"),
    # Within num_predict (twice the block): a junk comment, not an essay.
    "junk comment": (PY_MAIN.replace("def main():", "def main():  # " + "fix " * 25), "bloat"),
}
JS_WHOLE = {
    "execSync": (
        _inject(
            JS_FIXED, "function main() {", "  require('child_process').execSync('touch pwned');"
        ),
        "added-code",
    ),
    "export dropped": (JS_FIXED.replace("{ main, h3 }", "{ main }"), "export"),
    "renamed": (JS_FIXED.replace("h3", "h_3"), "export"),
}
JS_BLOCK = {
    "execSync": (
        _inject(
            JS_MAIN, "function main() {", "  require('child_process').execSync('touch pwned');"
        ),
        "added-code",
    ),
    "operand changed": (JS_MAIN.replace("length + 1", "length - 1"), "operator"),
}


@pytest.fixture
def repair(workspace, ollama_standin):
    def run(name: str, broken: str, answer: str, mode: str):
        workspace.write_config(
            llm={"backend": "ollama", "host": ollama_standin.url},
            mechanic={"file_cooldown_hours": 0},
            repair={"mode": mode, "deterministic": False},
        )
        target = workspace.file(name, broken)
        ollama_standin.reply(f"```\n{answer}\n```")
        record = attempt(workspace, target)
        return target, record

    return run


def _assert_refused(target, broken: str, record, rule: str, rung: str) -> None:
    assert target.read_bytes() == broken.encode(), "the file must keep its bytes"
    assert record.rung == rung
    assert record.outcome == "rejected", record.reason
    assert f"meaning guard refuses it ({rule})" in record.reason
    assert not (target.parent / "pwned").exists()


@pytest.mark.parametrize("case", sorted(PY_WHOLE))
def test_hostile_whole_file_python_answers_change_nothing(repair, case):
    answer, rule = PY_WHOLE[case]
    target, record = repair("app.py", PY_BROKEN, answer, "whole")
    _assert_refused(target, PY_BROKEN, record, rule, "whole")


@pytest.mark.parametrize("case", sorted(PY_BLOCK))
def test_hostile_block_python_answers_change_nothing(repair, case):
    answer, rule = PY_BLOCK[case]
    target, record = repair("app.py", PY_BROKEN, answer, "block")
    _assert_refused(target, PY_BROKEN, record, rule, "block")


@pytest.mark.parametrize("case", sorted(JS_WHOLE))
def test_hostile_whole_file_javascript_answers_change_nothing(repair, case):
    answer, rule = JS_WHOLE[case]
    target, record = repair("app.js", JS_BROKEN, answer, "auto")  # the default mode
    _assert_refused(target, JS_BROKEN, record, rule, "whole")


@pytest.mark.parametrize("case", sorted(JS_BLOCK))
def test_hostile_block_javascript_answers_change_nothing(repair, case):
    answer, rule = JS_BLOCK[case]
    target, record = repair("app.js", JS_BROKEN, answer, "block")
    _assert_refused(target, JS_BROKEN, record, rule, "block")


@pytest.mark.parametrize(
    ("name", "broken", "answer", "mode"),
    [
        ("app.py", PY_BROKEN, PY_FIXED, "whole"),
        ("app.py", PY_BROKEN, PY_MAIN, "block"),
        ("app.js", JS_BROKEN, JS_FIXED, "auto"),
        ("app.js", JS_BROKEN, JS_MAIN, "block"),
    ],
    ids=["python whole", "python block", "javascript whole", "javascript block"],
)
def test_the_plain_fix_is_still_applied(repair, name, broken, answer, mode):
    target, record = repair(name, broken, answer, mode)
    assert record.outcome == "applied", record.reason
    fixed = PY_FIXED if name.endswith(".py") else JS_FIXED
    assert target.read_text() == fixed


# What the zero-token rung wrote on real human faults (issue 10), each parsing and
# meaning something the author did not write. Now the file is left as it was (for a
# model or a person), or fixed the way its author fixed it, and nothing else.
HUMAN_FAULTS = {
    "walrus.py": ("n = 1\nif n = 0:\n    print(n)\n", ["n = 1\nif n == 0:\n    print(n)\n"]),
    "print_statement.py": ("total = 1\nprint total\n", ["total = 1\nprint(total)\n"]),
    "missing_operator.py": ("k = 1\nwhile (k  10 > 0):\n    k -= 1\n", []),
    "bang.py": ("done = 1\nif !done:\n    print(1)\n", ["done = 1\nif not done:\n    print(1)\n"]),
    "return_assign.py": ("def f(acc, v):\n    return acc += v\n", []),
    "dangling.py": ("def f(x):\n    return x *\n", []),
    "range_colon.py": (
        "for i in range(2:8):\n    print(i)\n",
        ["for i in range(2, 8):\n    print(i)\n"],
    ),
    "int_call.py": ("x = 5(%5)\n", []),
    "unquoted.py": (
        "def count(s, w):\n    return 1\n\n\nprint(count(type a word))\n",
        ["def count(s, w):\n    return 1\n\n\nprint(count('type a word'))\n"],
    ),
    "oror.py": (
        "a = b = 1\nif a==1||b==2:\n    print(a)\n",
        ["a = b = 1\nif a==1 or b==2:\n    print(a)\n"],
    ),
    "empty_for.py": (
        "total = 0\nfor v in [1, 2]:\nprint(total)\nx = 2\n",
        ["total = 0\nfor v in [1, 2]:\n    pass\nprint(total)\nx = 2\n"],
    ),
    "format.py": ("v = 1\nprint('{:.1f}'.format(v)\n", ["v = 1\nprint('{:.1f}'.format(v))\n"]),
}


def _program(text: str) -> str | None:
    try:
        return ast.dump(ast.parse(text))
    except SyntaxError:
        return None


def test_the_zero_token_rung_never_writes_a_fix_that_means_something_else(workspace):
    workspace.write_config()  # backend none: only the zero-token rung
    paths = {name: workspace.file(name, broken) for name, (broken, _) in HUMAN_FAULTS.items()}
    workspace.run("once")
    for name, path in paths.items():
        broken, authors = HUMAN_FAULTS[name]
        now = path.read_text()
        if now != broken:
            assert _program(now) in {_program(fix) for fix in authors}, (name, now)
    # A bracket the layout places is the rung's to add.
    assert _program(paths["format.py"].read_text()) == _program(HUMAN_FAULTS["format.py"][1][0])
