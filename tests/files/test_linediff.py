"""Line alignment that never goes quadratic: the same answers as difflib where
difflib is quick, valid (and careful) ones where it would not be."""

from __future__ import annotations

import difflib
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from mechanic.files import linediff
from mechanic.write.textfile import decode, encode

LINES = st.lists(st.sampled_from(["a", "b", "c", "x = 1", "", "def f():"]), max_size=40)


def pairs(matcher) -> list[tuple[int, int]]:
    return [(b.a + k, b.b + k) for b in matcher.get_matching_blocks() for k in range(b.size)]


@given(LINES, LINES)
def test_small_inputs_get_difflib_itself(a, b):
    expected = difflib.SequenceMatcher(None, a, b, autojunk=False)
    assert linediff.matcher(a, b).get_opcodes() == expected.get_opcodes()


@given(LINES, LINES)
def test_the_diff_is_difflibs_for_small_inputs(a, b):
    old, new = [f"{line}\n" for line in a], [f"{line}\n" for line in b]
    assert list(linediff.unified_diff(old, new, "a/f", "b/f")) == list(
        difflib.unified_diff(old, new, "a/f", "b/f")
    )


@settings(max_examples=40, deadline=None)
@given(LINES, LINES, st.integers(600, 3000))
def test_large_inputs_match_only_equal_lines_in_order(a, b, repeat):
    # Big enough to leave difflib: a long repetitive body around small random edits.
    body = ["x = 1"] * repeat
    old, new = [*a, *body, *b], [*b, *body, "y = 2", *a]
    found = pairs(linediff.matcher(old, new))
    assert all(old[i] == new[j] for i, j in found)
    assert all(i1 < i2 and j1 < j2 for (i1, j1), (i2, j2) in itertools.pairwise(found))
    assert len(found) >= repeat  # the body is matched whole


def test_a_long_repetitive_file_with_one_edit_is_matched_but_that_line():
    old = ["x = 1"] * 40_000 + ["def main(:", "    pass"]
    new = ["x = 1"] * 40_000 + ["def main():", "    pass"]
    opcodes = linediff.matcher(old, new).get_opcodes()
    assert opcodes == [
        ("equal", 0, 40_000, 0, 40_000),
        ("replace", 40_000, 40_001, 40_000, 40_001),
        ("equal", 40_001, 40_002, 40_001, 40_002),
    ]
    old_lines, new_lines = [f"{s}\n" for s in old], [f"{s}\n" for s in new]
    diff = "".join(linediff.unified_diff(old_lines, new_lines, "a", "b"))
    assert "@@ -39998,5 +39998,5 @@" in diff and "+def main():\n" in diff


def test_lines_moved_in_a_large_file_are_anchored_by_unique_lines():
    body = [f"v{n} = {n}" for n in range(2_000)]
    old = [*body[1000:], *body[:1000]]  # two halves swapped
    found = pairs(linediff.matcher(old, body))
    assert len(found) == 1_000 and all(old[i] == body[j] for i, j in found)


def test_a_large_tab_indented_file_keeps_its_tabs_and_line_endings():
    # The model answers with spaces and plain newlines; the file had tabs and CRLF.
    original = ("def f():\r\n" + "\tx = 1\r\n" * 30_000 + "\treturn x(\r\n").encode()
    text, fmt = decode(original, "python")
    answer = text.replace("\t", "    ").replace("return x(", "return x()")
    fixed = encode(answer, fmt)
    assert fixed == original.replace(b"return x(", b"return x()")
