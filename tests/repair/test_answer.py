"""Turning a model's answer into candidate code: what is kept, what is refused."""

from __future__ import annotations

import pytest

from mechanic.repair.answer import Rejected, code_from_answer, extract_code

ORIGINAL = "\n".join(
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
FIXED = ORIGINAL.replace("x * 2));", "x * 2);")


def use(answer: str, done_reason: str | None = "stop") -> str:
    return code_from_answer(answer, ORIGINAL, done_reason=done_reason)


def test_a_plain_answer_is_the_code():
    assert use(FIXED) == FIXED


def test_markdown_fences_are_stripped():
    assert use(f"```javascript\n{FIXED}\n```") == FIXED


def test_prose_around_a_fenced_block_is_dropped():
    answer = f"Here is the fixed file:\n\n```js\n{FIXED}\n```\n\nI removed the extra paren."
    assert use(answer) == FIXED


def test_the_longest_fenced_block_wins_over_a_snippet():
    answer = f"The bug:\n```js\nx * 2));\n```\nFixed file:\n```js\n{FIXED}\n```"
    assert use(answer) == FIXED


def test_a_fence_that_never_closes_runs_to_the_end():
    assert use(f"```js\n{FIXED}\n") == FIXED


def test_think_blocks_are_removed():
    assert use(f"<think>The paren on line 3 is extra.</think>\n{FIXED}") == FIXED


def test_an_answer_that_only_thinks_is_refused():
    with pytest.raises(Rejected, match="think"):
        use("<think>Let me look at line 3, the paren")


def test_prose_lines_without_fences_are_trimmed():
    assert use(f"Here's the corrected code:\n{FIXED}\nThis fixes the syntax error.") == FIXED


def test_an_empty_answer_is_refused():
    with pytest.raises(Rejected, match="no code"):
        use("")
    with pytest.raises(Rejected, match="no code"):
        use("```js\n```")


def test_a_cut_off_answer_is_refused_even_if_it_looks_complete():
    with pytest.raises(Rejected, match="cut off"):
        use(FIXED, done_reason="length")


def test_the_unchanged_original_is_refused():
    with pytest.raises(Rejected, match="unchanged"):
        use(ORIGINAL)


@pytest.mark.parametrize(
    "placeholder",
    [
        "// ... rest of code ...",
        "// ... existing code ...",
        "  // existing code here",
        "# rest of the file unchanged",
        "/* remaining methods omitted for brevity */",
        "// ...",
        "...",
        "// same as before",
        "  // … rest of the function",
    ],
)
def test_elision_placeholders_are_refused(placeholder):
    lines = FIXED.split("\n")
    answer = "\n".join([*lines[:5], placeholder, *lines[5:]])
    with pytest.raises(Rejected, match="placeholder"):
        use(answer)


def test_a_placeholder_already_in_the_original_is_not_held_against_the_fix():
    original = ORIGINAL + "\n// ... rest of code lives in other.js"
    fixed = FIXED + "\n// ... rest of code lives in other.js"
    assert code_from_answer(fixed, original, done_reason="stop") == fixed


def test_an_answer_far_shorter_than_the_original_is_refused():
    with pytest.raises(Rejected, match="far shorter"):
        use("\n".join(FIXED.split("\n")[:4]))


def test_extract_keeps_indentation_of_the_first_line():
    assert extract_code("```py\n    x = 1\n```") == "    x = 1"


def test_reindenting_a_block_counts_as_keeping_it():
    original = "def f():\nreturn 1\nx = 2\ny = 3\nz = 4\nw = 5\n"
    fixed = "def f():\n    return 1\nx = 2\ny = 3\nz = 4\nw = 5\n"
    assert code_from_answer(fixed, original, done_reason="stop") == fixed.strip("\n")


def test_a_fix_of_one_or_two_lines_in_a_tiny_file_is_accepted():
    original = "def f(:\n    return 1\n"
    assert code_from_answer("def f():\n    return 1\n", original, done_reason="stop")
