"""A forgiving lexer for Python and JavaScript source that may not parse.

The languages' own tokenizers stop at the first unterminated string or unclosed
bracket, which is exactly the text mechanic has to repair. This one never fails:
an unterminated string becomes a `ustr` token running to the end of its line
(as both parsers see it), and anything unknown becomes a one-character `op`.
It only has to be right about where tokens start and end on ordinary code; the
parser, not the lexer, decides whether a repair is valid.
"""

from __future__ import annotations

import contextlib
import gc
import re
import threading
import time
from collections.abc import Iterator
from typing import NamedTuple

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")": "(", "]": "[", "}": "{"}


class OutOfTime(Exception):
    """A time budget ran out in a loop whose length depends on the file."""


_CLOCK_EVERY = 4096  # tokens between two looks at the clock


class Token(NamedTuple):
    """One token: a tuple, since a big file has hundreds of thousands of them."""

    kind: str  # name | num | str | ustr | regex | op | comment
    start: int
    end: int
    line: int  # 1-based line of `start`
    text: str


_PY_OPS = (
    "**=",
    "//=",
    ">>=",
    "<<=",
    "...",
    "->",
    ":=",
    "==",
    "!=",
    "<=",
    ">=",
    "**",
    "//",
    "<<",
    ">>",
    "+=",
    "-=",
    "*=",
    "/=",
    "%=",
    "&=",
    "|=",
    "^=",
    "@=",
)
_JS_OPS = (
    ">>>=",
    "===",
    "!==",
    "**=",
    ">>>",
    "<<=",
    ">>=",
    "&&=",
    "||=",
    "??=",
    "...",
    "=>",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "??",
    "?.",
    "**",
    "++",
    "--",
    "<<",
    ">>",
    "+=",
    "-=",
    "*=",
    "/=",
    "%=",
    "&=",
    "|=",
    "^=",
)


def _ops_pattern(ops: tuple[str, ...]) -> str:
    return "|".join(re.escape(op) for op in sorted(ops, key=len, reverse=True))


# Strings are matched whole by the pattern (a backslash escapes any character, a
# newline included), so one `finditer` pass covers the file: a loop of `match` calls
# was the slowest step on big files. An unterminated string is a `ustr` token: to the
# end of its line, or, for a block string or a JS template, to the end of the text,
# as the parsers see it.
# fmt: off
_ESC = r"\\[\s\S]"
_Q3S, _Q3D = "'" * 3, '"' * 3
_PRE = r"[rRbBuUfF]{0,2}"
_BLOCK_S = _Q3S + r"(?:[^'\\]|" + _ESC + r"|'(?!''))*" + _Q3S
_BLOCK_D = _Q3D + r'(?:[^"\\]|' + _ESC + r'|"(?!""))*' + _Q3D
_LINE_S = r"'(?:[^'\\\n]|" + _ESC + r")*"
_LINE_D = r'"(?:[^"\\\n]|' + _ESC + r")*"
# Block strings first, so that an unterminated `"""` is not read as `""` and `"`.
_PY_STRINGS = (
    r"(?P<str>" + _PRE + r"(?:" + _BLOCK_S + r"|" + _BLOCK_D + r"))"
    + r"|(?P<ustr>" + _PRE + r"(?:" + _Q3S + r"|" + _Q3D + r")[\s\S]*)"
    + r"|(?P<str1>" + _PRE + r"(?:" + _LINE_S + r"'|" + _LINE_D + r'"))'
    + r"|(?P<ustr1>" + _PRE + r"(?:" + _LINE_S + r"|" + _LINE_D + r"))"
)
_JS_STRINGS = (
    r"(?P<str>'(?:" + _ESC + r"|[^'\\\n])*'"
    + r'|"(?:' + _ESC + r'|[^"\\\n])*"'
    + r"|`(?:" + _ESC + r"|[^`\\])*`)"
    + r"|(?P<ustr>`[\s\S]*"
    + r"|'(?:" + _ESC + r"|[^'\\\n])*"
    + r'|"(?:' + _ESC + r'|[^"\\\n])*)'
)
_NUM = (
    r"0[xXoObB][0-9a-fA-F_]+n?|\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?[jJn]?"
    r"|\.\d[\d_]*(?:[eE][+-]?\d+)?[jJ]?"
)
# Each match takes the blanks before its token (`\s*`, outside the groups; no token
# starts with a blank): one failed try of every alternative per blank made a file
# indented 90 deep cost a second per MB to read.
_PY = re.compile(
    r"\s*(?:(?P<comment>\#[^\n]*)|"
    + _PY_STRINGS
    + r"|(?P<name>[^\W\d]\w*)"
    + r"|(?P<num>" + _NUM + r")"
    + r"|(?P<op>" + _ops_pattern(_PY_OPS) + r"|\S))"
)
_JS = re.compile(  # a blank, for JS: ASCII only (`\u00a0` and up read as names)
    r"[\t-\r\x1c-\x20]*(?:(?P<comment>//[^\n]*|/\*[\s\S]*?(?:\*/|\Z))|"
    + _JS_STRINGS
    + r"|(?P<name>[A-Za-z_$\u0080-\uffff#][\w$\u0080-\uffff]*)"
    + r"|(?P<num>" + _NUM + r")"
    + r"|(?P<op>" + _ops_pattern(_JS_OPS) + r"|\S))"
)
_KINDS = {"str1": "str", "ustr1": "ustr"}
# fmt: on
_JS_REGEX = re.compile(r"/(?![*/])(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n\[])+/[a-z]*")
# After these a `/` starts a regular expression rather than a division.
_JS_REGEX_AFTER_KEYWORDS = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete"}
_JS_REGEX_AFTER_KEYWORDS |= {"void", "throw", "instanceof", "yield", "await"}


def _regex_may_start(previous: Token | None, text: str) -> bool:
    if previous is None:
        return True
    kind, start, end = previous.kind, previous.start, previous.end
    if kind == "op":
        return text[start:end] not in (")", "]", "}")
    return kind == "name" and text[start:end] in _JS_REGEX_AFTER_KEYWORDS


def tokenize(
    text: str, language: str, *, deadline: float | None = None, share: float = 1.0
) -> list[Token]:
    """Every token of `text`, comments included; whitespace and newlines dropped.
    Linear in the text: one regular-expression pass (restarted after a JS regex).
    With a `deadline` (time.monotonic()), raises OutOfTime once it has passed, or as
    soon as its pace shows it would take more than `share` of the time to it (a
    caller that needs the rest of the time for more work gives up at once, not at
    the deadline).

    The zero-token search, the meaning guard and the static check each tokenize the
    same broken and fixed texts: the last few results are kept (by text), so a
    1 MB file is read once, not three times. A pure function of its arguments."""
    key = (language, text)
    with _memo_lock:
        done = _memo.get(key)
    if done is None:
        with _no_cycle_collection():
            done = tuple(_tokens(text, language, deadline, share))
        with _memo_lock:
            _memo[key] = done
            while len(_memo) > _MEMO_SIZE:
                del _memo[next(iter(_memo))]
    return list(done)


_MEMO_SIZE = 4  # the broken text, a candidate or two, and the fixed text
_memo: dict[tuple[str, str], tuple[Token, ...]] = {}
_memo_lock = threading.Lock()


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cycle collector paused while a file's tokens are made. Tokens hold only
    strings and numbers, so they form no cycles, yet the collector walked the growing
    list over and over: 40% of the time on a 1 MB file. Paused, not switched off: the
    previous state is back when this ends (a thread that found it paused leaves it)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_PACE_AFTER = 0.05  # seconds of lexing before its pace is trusted


def _look_at_clock(began: float, deadline: float, share: float, done: float) -> None:
    now = time.monotonic()
    if now > deadline:
        raise OutOfTime
    spent = now - began
    # Linear work: at this pace, the whole text takes spent / done.
    if (
        share < 1
        and spent >= _PACE_AFTER
        and done > 0
        and spent / done > share * (deadline - began)
    ):
        raise OutOfTime


def _tokens(text: str, language: str, deadline: float | None, share: float) -> list[Token]:
    # One loop builds the tokens: the clock is looked at inside it, so no pass over a
    # 1 MB file runs unwatched (a second pass that made the Token tuples once ran 2 s
    # past the rung's budget), and each token is one tuple, not three.
    python = language == "python"
    pattern = _PY if python else _JS
    new, make, kinds, every = tuple.__new__, Token, _KINDS, _CLOCK_EVERY
    began = time.monotonic()
    tokens: list[Token] = []
    append = tokens.append
    pos, n = 0, len(text)
    line, newline = 1, text.find("\n")  # the line of the token, the next newline's offset
    if newline < 0:
        newline = n
    while pos < n:
        restart = n
        for match in pattern.finditer(text, pos):
            group = match.lastgroup or "op"
            kind = kinds.get(group, group)
            start, end = match.start(group), match.end()
            if (
                kind == "op"
                and not python
                and text[start] == "/"
                and _regex_may_start(tokens[-1] if tokens else None, text)
            ):
                regex = _JS_REGEX.match(text, start)
                if regex is not None:
                    kind, end = "regex", regex.end()
            while newline < start:  # a million blank lines are a million steps too
                line += 1
                newline = text.find("\n", newline + 1)
                if newline < 0:
                    newline = n
                if not line % every and deadline is not None:
                    _look_at_clock(began, deadline, share, newline / n)
            append(new(make, (kind, start, end, line, text[start:end])))
            if not len(tokens) % every and deadline is not None:
                _look_at_clock(began, deadline, share, start / n)
            if kind == "regex":  # the pattern's pass resumes after the regex
                restart = end
                break
        pos = restart
    return tokens


def line_starts(text: str) -> list[int]:
    """Offset of the first character of each line (index 0 is line 1)."""
    starts = [0]
    index = text.find("\n")
    while index >= 0:
        starts.append(index + 1)
        index = text.find("\n", index + 1)
    return starts


def identifier_counts(text: str, language: str) -> dict[str, int]:
    """How often each name occurs as code (not in strings or comments)."""
    counts: dict[str, int] = {}
    for token in tokenize(text, language):
        if token.kind == "name":
            counts[token.text] = counts.get(token.text, 0) + 1
    return counts
