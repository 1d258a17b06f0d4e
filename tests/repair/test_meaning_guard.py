"""The meaning guard, attacked: candidates that parse but change what the author meant
are refused, each with the rule named; the fixes people make still pass.

Every candidate here parses (checked first), so the guard is the only thing standing
between it and the file. The findings are the real checkers' own."""

from __future__ import annotations

from pathlib import Path

import pytest

from mechanic.detect.checkers import CheckerSet
from mechanic.detect.checkers.base import Finding
from mechanic.repair.baseline import Baseline
from mechanic.repair.guard import meaning


@pytest.fixture(scope="module")
def checkers():
    with CheckerSet() as found:
        yield found


def judge(
    checkers,
    tmp_path: Path,
    language: str,
    broken: str,
    candidate: str,
    *,
    baseline: str | None = None,
    finding: Finding | None = None,
    max_file_kb: int = 1024,
) -> meaning.Refusal | None:
    path = tmp_path / ("x.py" if language == "python" else "x.js")
    checker = checkers.get(language)
    if finding is None:
        finding = checker.check_source(path, broken.encode())
        assert finding is not None, "the broken text must not parse"
    assert checker.check_source(path, candidate.encode()) is None, "the candidate must parse"
    return meaning.judge(
        broken,
        candidate,
        language=language,
        finding=finding,
        baseline=Baseline(baseline, "last good version") if baseline is not None else None,
        max_file_kb=max_file_kb,
        path=path,
        checker=checker,
    )


def refused(checkers, tmp_path, language, broken, candidate, rule, **kw) -> str:
    found = judge(checkers, tmp_path, language, broken, candidate, **kw)
    assert found is not None, "the guard let it through"
    assert found.rule == rule, str(found)
    text = str(found)
    assert f"({rule})" in text and "the original is kept" in text
    return text


# --- what people write, and what a rung wrote that the author never meant --------------

HUMAN_FAULTS = [
    (
        "walrus",
        "n = 1\nif n = 0:\n    print(n)\n",
        "n = 1\nif n := 0:\n    print(n)\n",
        "condition",
    ),
    ("print tuple", "total = 1\nprint total\n", "total = 1\nprint, total\n", "tuple"),
    (
        "missing operator as a tuple",
        "k = 1\nwhile (k  10 > 0):\n    k -= 1\n",
        "k = 1\nwhile (k, 10 > 0):\n    k -= 1\n",
        "tuple",
    ),
    (
        "inverted test",
        "done = 1\nif !done:\n    pass\n",
        "done = 1\nif done:\n    pass\n",
        "condition",
    ),
    (
        "return tuple",
        "def f(acc, v):\n    return acc += v\n",
        "def f(acc, v):\n    return acc, v\n",
        "operator",
    ),
    ("dropped operand", "def f(x):\n    return x *\n", "def f(x):\n    return x\n", "operator"),
    (
        "merged numbers",
        "for i in range(2:8):\n    print(i)\n",
        "for i in range(28):\n    print(i)\n",
        "renamed",
    ),
    ("int called", "x = 5(%5)\n", "x = 5(5)\n", "operator"),
    (
        "new undefined names",
        "def count(s, w):\n    return 1\nprint(count(type a word))\n",
        "def count(s, w):\n    return 1\nprint(count(type, a, word))\n",
        "undefined-name",
    ),
    (
        "bitwise for logical",
        "a = b = 1\nif a==1||b==2:\n    pass\n",
        "a = b = 1\nif a==1|b==2:\n    pass\n",
        "operator",
    ),
    (
        "format applied to print's result",
        "v = 1\nprint('{:.1f}'.format(v)\n",
        "v = 1\nprint('{:.1f}').format(v)\n",
        "call",
    ),
    (
        "empty for filled by the next statement",
        "total = 0\nfor v in [1, 2]:\nprint(total)\nx = 2\n",
        "total = 0\nfor v in [1, 2]:\n    print(total)\nx = 2\n",
        "indentation",
    ),
    (
        "empty for filled by the last statement",
        "total = 0\nfor v in [1, 2]:\nprint(total)\n",
        "total = 0\nfor v in [1, 2]:\n    print(total)\n",
        "indentation",
    ),
    ("print annotation", "total = 1\nprint total\n", "total = 1\nprint: total\n", "tuple"),
    ("int call unwrapped", "x = 5(%5)\n", "x = 5%5\n", "call"),
    (
        "empty for filled with a changed statement",
        "total = 0\nfor v in [1, 2]:\nprint(total)\nx = 2\n",
        "total = 0\nfor v in [1, 2]:\n    print(total,)\nx = 2\n",
        "indentation",
    ),
    (
        "raise deleted",
        "def check(x):\n    if x:\n        raise ValueError, 'msg'\n",
        "def check(x):\n    if x:\n        ValueError, 'msg'\n",
        "deleted-code",
    ),
]


@pytest.mark.parametrize(
    ("broken", "candidate", "rule"),
    [case[1:] for case in HUMAN_FAULTS],
    ids=[case[0] for case in HUMAN_FAULTS],
)
def test_a_fix_that_means_something_else_is_refused(checkers, tmp_path, broken, candidate, rule):
    refused(checkers, tmp_path, "python", broken, candidate, rule)


def test_int_is_not_callable_is_refused_as_a_syntax_warning(checkers, tmp_path):
    # `5(%5)` -> `5(5)` drops an operator; `10 (10)` added by a model is the warning alone.
    text = refused(checkers, tmp_path, "python", "x = 10 (10\n", "x = 10 (10)\n", "syntax-warning")
    assert "not callable" in text


THE_FIXES_PEOPLE_MAKE = [
    ("== for =", "n = 1\nif n = 0:\n    print(n)\n", "n = 1\nif n == 0:\n    print(n)\n"),
    ("print call", "total = 1\nprint total\n", "total = 1\nprint(total)\n"),
    ("not for !", "done = 1\nif !done:\n    pass\n", "done = 1\nif not done:\n    pass\n"),
    (
        "or for ||",
        "a = b = 1\nif a==1||b==2:\n    pass\n",
        "a = b = 1\nif a==1 or b==2:\n    pass\n",
    ),
    ("a comma", "for i in range(2:8):\n    print(i)\n", "for i in range(2, 8):\n    print(i)\n"),
    ("a colon", "def main(:\n    pass\n", "def main():\n    pass\n"),
    ("a bracket", "v = 1\nprint('{:.1f}'.format(v)\n", "v = 1\nprint('{:.1f}'.format(v))\n"),
    (
        "pass in an empty block",
        "total = 0\nfor v in [1]:\nprint(total)\n",
        "total = 0\nfor v in [1]:\n    pass\nprint(total)\n",
    ),
    (
        "a body that lost its indentation",
        "def f():\nx = 1\n    return x\n",
        "def f():\n    x = 1\n    return x\n",
    ),
    (
        "a method that lost its indentation",
        "class K:\n    def get(self):\n    return 1\n\n    def put(self):\n        return 2\n",
        "class K:\n    def get(self):\n        return 1\n\n    def put(self):\n        return 2\n",
    ),
    (
        "a field annotation",
        "from typing import Required\n\n\nclass K:\n    model Required[str]\n",
        "from typing import Required\n\n\nclass K:\n    model: Required[str]\n",
    ),
    (
        "a name split by a bracket",
        "def f(p, s):\n    return p.splits)\n",
        "def f(p, s):\n    return p.split(s)\n",
    ),
    (
        "a loop body that lost its indentation",
        "total = 0\nfor v in [1]:\ntotal += v\n",
        "total = 0\nfor v in [1]:\n    total += v\n",
    ),
    ("a misspelt keyword", "def f(x):\n    retrun x\n", "def f(x):\n    return x\n"),
    (
        "elif for else if",
        "x = 1\nif x:\n    pass\nelse if x > 1:\n    pass\n",
        "x = 1\nif x:\n    pass\nelif x > 1:\n    pass\n",
    ),
]


@pytest.mark.parametrize(
    ("broken", "candidate"),
    [case[1:] for case in THE_FIXES_PEOPLE_MAKE],
    ids=[case[0] for case in THE_FIXES_PEOPLE_MAKE],
)
def test_the_fix_a_person_makes_passes(checkers, tmp_path, broken, candidate):
    assert judge(checkers, tmp_path, "python", broken, candidate) is None


# --- model answers ----------------------------------------------------------------------

BODY = "".join(
    f"def helper_{name}(y):\n    x = y * 20\n    return x + 1\n\n\n"
    for name in ("one", "two", "three", *(f"n{i}" for i in range(27)))
)
BROKEN = "def main()\n    return helper_one(2)\n\n\n" + BODY
GOOD = "def main():\n    return helper_one(2)\n\n\n" + BODY


def test_a_whole_file_answer_with_only_the_fix_passes(checkers, tmp_path):
    assert judge(checkers, tmp_path, "python", BROKEN, GOOD) is None


@pytest.mark.parametrize(
    ("candidate", "rule"),
    [
        ("import os; os.system('touch pwned')\n" + GOOD, "added-code"),
        (
            GOOD.replace(
                "    return helper_one(2)",
                "    __import__('os').system('touch pwned')\n    return helper_one(2)",
            ),
            "added-code",
        ),
        (GOOD.replace("return x + 1", "return x - 1", 1), "region"),  # ten lines from the error
        (GOOD.replace("y * 20", "y // 20", 1), "region"),
        (GOOD.replace("helper_three", "helper_3"), "export"),
        (GOOD.replace("def helper_n26(y):\n    x = y * 20\n    return x + 1\n\n\n", ""), "export"),
        (GOOD.replace("def main():\n", "def main():\n    # " + "x" * 900 + "\n"), "bloat"),
        (GOOD.replace("def main():\n", "def main():  # " + "junk " * 20 + "\n"), "bloat"),
        (GOOD + "#" + "x" * (30 * 1024 * 1024) + "\n", "size"),
        (GOOD.replace("def main():", "def main():\n    helper_two(1)"), "added-code"),
    ],
    ids=[
        "import and os.system",
        "__import__ in main",
        "x + 1 to x - 1 far away",
        "y * 20 to y // 20",
        "helper_three renamed",
        "a function deleted",
        "900-character comment",
        "junk comment",
        "30 MB comment line",
        "a new call",
    ],
)
def test_hostile_whole_file_answers_are_refused(checkers, tmp_path, candidate, rule):
    refused(checkers, tmp_path, "python", BROKEN, candidate, rule)


def test_the_region_includes_the_lines_changed_since_the_last_good_version(checkers, tmp_path):
    # The author edited line 6 and broke line 1: a fix there is in the faulty region.
    last_good = GOOD.replace(
        "def helper_one(y):\n    x = y * 20", "def helper_one(y):\n    x = y * 2"
    )
    broken = BROKEN.replace("x = y * 20", "x = y * 2)", 1)
    candidate = GOOD.replace("x = y * 20", "x = y * 2", 1)
    finding = Finding(tmp_path / "x.py", "python", 6, 1, "SyntaxError: invalid syntax")
    assert (
        judge(checkers, tmp_path, "python", broken, candidate, baseline=last_good, finding=finding)
        is None
    )
    far = candidate.replace("return x + 1", "return x - 1", 5)
    refused(
        checkers, tmp_path, "python", broken, far, "region", baseline=last_good, finding=finding
    )


def test_an_undefined_name_is_judged_against_the_last_good_version(checkers, tmp_path):
    # `undefined_thing` was already undefined in the last good version: not the fix's doing.
    last_good = "def f():\n    return undefined_thing\n\n\ndef g(x):\n    return x\n"
    broken = last_good.replace("def g(x):", "def g(x)")
    assert judge(checkers, tmp_path, "python", broken, last_good, baseline=last_good) is None
    # A word of the broken text that becomes an undefined name is the fix's doing.
    refused(
        checkers,
        tmp_path,
        "python",
        "def g(x):\n    print(x total)\n",
        "def g(x):\n    print(x, total)\n",
        "undefined-name",
        baseline="def g(x):\n    print(x)\n",
    )


def test_importing_exactly_the_undefined_name_is_what_the_error_calls_for(checkers, tmp_path):
    text = "def f():\n    return json.dumps(1)\n"
    name_error = Finding(
        tmp_path / "x.py",
        "python",
        2,
        None,
        "NameError: name 'json' is not defined",
        kind="runtime",
    )
    assert (
        judge(checkers, tmp_path, "python", text, "import json\n" + text, finding=name_error)
        is None
    )
    for other in ("import json, os\n", "import os\n", "import json\nimport os\n"):
        refused(checkers, tmp_path, "python", text, other + text, "added-code", finding=name_error)


# --- JavaScript -------------------------------------------------------------------------

JS_BROKEN = (
    "function main( {\n  return h3(1);\n}\n\nfunction h3(x) {\n  return x * 3;\n}\n\n"
    + "".join(f"function f{i}(a) {{\n  return a + {i};\n}}\n" for i in range(12))
    + "\nmodule.exports = { main, h3 };\n"
)
JS_GOOD = JS_BROKEN.replace("function main( {", "function main() {")


def test_a_javascript_fix_passes(checkers, tmp_path):
    assert judge(checkers, tmp_path, "javascript", JS_BROKEN, JS_GOOD) is None


@pytest.mark.parametrize(
    ("candidate", "rule"),
    [
        (
            JS_GOOD.replace(
                "  return h3(1);",
                "  require('child_process').execSync('touch pwned');\n  return h3(1);",
            ),
            "added-code",
        ),
        ("const cp = require('child_process');\n" + JS_GOOD, "added-code"),
        (JS_GOOD.replace("{ main, h3 }", "{ main }"), "export"),
        (JS_GOOD.replace("return a + 7;", "return a - 7;"), "region"),
        (JS_GOOD.replace("function h3(x)", "function h_3(x)").replace("h3(1)", "h_3(1)"), "export"),
        (JS_GOOD.replace("function main() {", "function main() { // " + "x" * 900), "bloat"),
    ],
    ids=[
        "execSync injected",
        "require injected",
        "export dropped",
        "far edit",
        "renamed",
        "comment essay",
    ],
)
def test_hostile_javascript_answers_are_refused(checkers, tmp_path, candidate, rule):
    refused(checkers, tmp_path, "javascript", JS_BROKEN, candidate, rule)


def test_quoting_code_away_is_refused(checkers, tmp_path):
    broken = "import os\n\n\ndef clean(f)\n    os.remove(f)\n"
    candidate = "import os\n\n\ndef clean(f):\n    'os.remove(f)'\n"
    refused(checkers, tmp_path, "python", broken, candidate, "deleted-code")


def test_a_dropped_quote_put_back_turns_the_line_back_into_code(checkers, tmp_path):
    broken = "const { bold, blue } = require('c');\nconsole.log(bold(Module: ') + blue(1));\n"
    fixed = broken.replace("bold(Module: ')", "bold('Module: ')")
    assert judge(checkers, tmp_path, "javascript", broken, fixed) is None


def test_the_indirect_call_idiom_is_not_a_comma_expression(checkers, tmp_path):
    broken = "const m = require('m');\nmodule.exports = (x) => (0 m.f)(x);\n"
    fixed = broken.replace("(0 m.f)", "(0, m.f)")
    assert judge(checkers, tmp_path, "javascript", broken, fixed) is None


def test_semicolon_free_code_keeps_ending_its_lines(checkers, tmp_path):
    broken = (
        "const name = process.argv[2]\nconst display = name || '<unknown>\nconsole.log(display)\n"
    )
    fixed = broken.replace("'<unknown>", "'<unknown>'")
    assert judge(checkers, tmp_path, "javascript", broken, fixed) is None


def test_a_javascript_label_is_refused(checkers, tmp_path):
    broken = "let total = 1;\nprint total;\n"
    refused(
        checkers,
        tmp_path,
        "javascript",
        broken,
        broken.replace("print total", "print: total"),
        "tuple",
    )


def test_a_javascript_comma_expression_is_refused(checkers, tmp_path):
    broken = "function f(a, b) {\n  return (a b);\n}\nmodule.exports = { f };\n"
    refused(checkers, tmp_path, "javascript", broken, broken.replace("(a b)", "(a, b)"), "tuple")


def test_a_javascript_fix_that_only_parses_through_asi_is_refused(checkers, tmp_path):
    broken = "function f(x) {\n  return (\n    x + 1;\n}\nmodule.exports = { f };\n"
    candidate = "function f(x) {\n  return\n    x + 1;\n}\nmodule.exports = { f };\n"
    refused(checkers, tmp_path, "javascript", broken, candidate, "asi")
    assert (
        judge(checkers, tmp_path, "javascript", broken, broken.replace("x + 1;", "x + 1);")) is None
    )


def test_semicolon_free_javascript_keeps_its_style_under_the_asi_rule(checkers, tmp_path):
    broken = "const a = 1\nconst b = (a + 2\nconsole.log(b)\n"
    assert (
        judge(checkers, tmp_path, "javascript", broken, broken.replace("(a + 2", "(a + 2)")) is None
    )


def test_requiring_exactly_the_undefined_name_is_what_the_error_calls_for(checkers, tmp_path):
    text = "function f() {\n  return path.join('a');\n}\nmodule.exports = { f };\n"
    error = Finding(
        tmp_path / "x.js",
        "javascript",
        2,
        None,
        "ReferenceError: path is not defined",
        kind="runtime",
    )
    fixed = "const path = require('path');\n" + text
    assert judge(checkers, tmp_path, "javascript", text, fixed, finding=error) is None
    hostile = "const path = require('child_process').execSync('x');\n" + text
    refused(checkers, tmp_path, "javascript", text, hostile, "added-code", finding=error)


def test_a_javascript_inverted_test_and_dropped_operand_are_refused(checkers, tmp_path):
    broken = (
        "function f(x, done) {\n  if (!done {\n    return x;\n  }\n}\nmodule.exports = { f };\n"
    )
    refused(
        checkers,
        tmp_path,
        "javascript",
        broken,
        broken.replace("(!done {", "(done) {"),
        "condition",
    )
    assert (
        judge(checkers, tmp_path, "javascript", broken, broken.replace("(!done {", "(!done) {"))
        is None
    )
    broken = "function f(x) {\n  return x *;\n}\nmodule.exports = { f };\n"
    refused(checkers, tmp_path, "javascript", broken, broken.replace("x *;", "x;"), "operator")


# --- what answer.py's 30 % rule used to judge, now judged by the diff -------------------

ANSWER_ORIGINAL = "\n".join(
    [
        "const fs = require('fs');",
        "function processData(input) {",
        "  const result = [1,2,3].map(x => x * 2));",
        "  return result;",
        "}",
        "function other() {",
        "  return fs.existsSync('x');",
        "}",
        "module.exports = { processData, other };",
    ]
)
ANSWER_FIXED = ANSWER_ORIGINAL.replace("x * 2));", "x * 2);")


def test_an_answer_that_rewrites_most_of_the_file_is_refused(checkers, tmp_path):
    rewritten = "\n".join(
        [
            "const fs = require('fs');",
            *[f"const value_number_{n} = compute({n});" for n in range(8)],
        ]
    )
    refused(checkers, tmp_path, "javascript", ANSWER_ORIGINAL, rewritten, "export")


def test_an_answer_that_appends_code_is_refused(checkers, tmp_path):
    extra = "\n".join(f"console.log({n});" for n in range(12))
    refused(
        checkers, tmp_path, "javascript", ANSWER_ORIGINAL, ANSWER_FIXED + "\n" + extra, "added-code"
    )


def test_one_appended_line_is_refused_too(checkers, tmp_path):
    # The old rule let up to five new lines through anywhere.
    refused(
        checkers,
        tmp_path,
        "javascript",
        ANSWER_ORIGINAL,
        ANSWER_FIXED + "\nconsole.log(1);",
        "added-code",
    )


# --- operators spelt in the other language: the fix people make, not a new operator -----


@pytest.mark.parametrize(
    ("language", "broken", "candidate"),
    [
        ("python", 'if word === "":\n    pass\n', 'if word == "":\n    pass\n'),
        ("python", "if a !== b:\n    pass\n", "if a != b:\n    pass\n"),
        ("javascript", "if (m > 10 and m <= 20) {\n}\n", "if (m > 10 && m <= 20) {\n}\n"),
        ("javascript", "if (a < 0 or a > 150) {\n}\n", "if (a < 0 || a > 150) {\n}\n"),
        ("javascript", "if (a) {\n} elif (b) {\n}\n", "if (a) {\n} else if (b) {\n}\n"),
    ],
    ids=["py ===", "py !==", "js and", "js or", "js elif"],
)
def test_an_operator_written_the_other_languages_way_may_be_translated(
    checkers, tmp_path, language, broken, candidate
):
    names = "word = a = b = 1\n" if language == "python" else "const m = 1, a = 2, b = 3;\n"
    assert judge(checkers, tmp_path, language, names + broken, names + candidate) is None


@pytest.mark.parametrize(
    ("language", "broken", "candidate", "rule"),
    [
        # `===` is three characters: the fix keeps `==`; dropping the comparison is not it.
        ("python", "x = a === b\n", "x = a = b\n", "operator"),
        ("javascript", "if (a and b) {\n}\n", "if (a || b) {\n}\n", "deleted-code"),
        ("javascript", "if (a and b) {\n}\n", "if (a && b || c) {\n}\n", "added-code"),
        ("javascript", "if (a and b) {\n}\n", "if (a && !b) {\n}\n", "operator"),
    ],
    ids=["=== to =", "and to ||", "and plus a new test", "and plus a negation"],
)
def test_a_translation_that_changes_the_test_is_still_refused(
    checkers, tmp_path, language, broken, candidate, rule
):
    names = "a = b = c = 1\n" if language == "python" else "const a = 1, b = 2, c = 3;\n"
    refused(checkers, tmp_path, language, names + broken, names + candidate, rule)


# --- a runtime NameError: the one undefined name may be replaced, nothing more -----------

RUNTIME_JS = (
    "function readCorrections(input) {\n  return String(input).trim();\n}\n\n"
    "function processData(input) {\n  return readCorrectionFile(input);\n}\n"
    "module.exports = { processData };\n"
)


def _runtime(checkers, tmp_path, candidate: str) -> meaning.Refusal | None:
    path = tmp_path / "x.js"
    finding = Finding(
        path,
        "javascript",
        6,
        10,
        "ReferenceError: readCorrectionFile is not defined",
        kind="runtime",
    )
    return meaning.judge(
        RUNTIME_JS,
        candidate,
        language="javascript",
        finding=finding,
        baseline=None,
        max_file_kb=1024,
        path=path,
        checker=checkers.get("javascript"),
    )


def test_a_runtime_undefined_name_may_become_the_name_the_file_defines(checkers, tmp_path):
    fixed = RUNTIME_JS.replace("readCorrectionFile(input)", "readCorrections(input)")
    assert _runtime(checkers, tmp_path, fixed) is None


@pytest.mark.parametrize(
    "candidate",
    [
        RUNTIME_JS.replace("readCorrectionFile(input)", "readCorrections(input) || process.exit"),
        RUNTIME_JS.replace("readCorrectionFile(input)", "readCorrections(process)"),
        RUNTIME_JS.replace("readCorrectionFile(input)", "undefinedHelper(input)"),
    ],
    ids=["plus a call", "another name replaced too", "a name nobody defines"],
)
def test_a_runtime_fix_that_does_more_than_name_what_exists_is_refused(
    checkers, tmp_path, candidate
):
    assert _runtime(checkers, tmp_path, candidate) is not None
