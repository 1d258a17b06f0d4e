"""Properties that must hold for any input, explored with hypothesis."""

from __future__ import annotations

import codecs

from hypothesis import given, settings
from hypothesis import strategies as st

from mechanic.repair.answer import Rejected, code_from_answer
from mechanic.write.textfile import NotText, decode, encode

lines = st.lists(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
        max_size=30,
    )
)


@given(lines, st.sampled_from(["\n", "\r\n"]), st.booleans(), st.booleans())
def test_any_text_file_round_trips_byte_for_byte(body, newline, final, bom):
    text = newline.join(body) + (newline if final and body else "")
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8")
    try:
        decoded, fmt = decode(data, "javascript")
    except NotText:
        return
    assert encode(decoded, fmt) == data


ORIGINAL = "def total(items):\n    return sum(items\n\nprint(total([1, 2]))\n"


@settings(max_examples=300)
@given(st.text(max_size=400), st.sampled_from(["stop", "length", None]))
def test_any_answer_is_either_refused_with_a_reason_or_changed_code(answer, done_reason):
    try:
        code = code_from_answer(answer, ORIGINAL, done_reason=done_reason)
    except Rejected as rejected:
        assert str(rejected)  # always a reason the user can read
        return
    assert done_reason != "length"
    assert code.strip() and code.strip() != ORIGINAL.strip()


@given(
    st.lists(
        st.tuples(
            st.text(
                alphabet=st.characters(
                    blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"
                ),
                max_size=20,
            ),
            st.sampled_from(["\n", "\r\n", "\r"]),
        ),
        max_size=12,
    ),
    st.booleans(),
)
def test_any_mix_of_line_endings_round_trips_byte_for_byte(lines, final):
    text = "".join(body + ending for body, ending in lines)
    if not final and lines:
        text = text[: -len(lines[-1][1])]
    data = text.encode("utf-8")
    decoded, fmt = decode(data, "javascript")
    assert encode(decoded, fmt) == data
