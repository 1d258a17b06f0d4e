"""A forgiving lexer for Python and JavaScript source that may not parse.

The languages' own tokenizers stop at the first unterminated string or unclosed
bracket, which is exactly the text mechanic has to repair. This one never fails:
an unterminated string becomes a `ustr` token running to the end of its line
(as both parsers see it), and anything unknown becomes a one-character `op`.
It only has to be right about where tokens start and end on ordinary code; the
parser, not the lexer, decides whether a repair is valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")": "(", "]": "[", "}": "{"}


@dataclass(frozen=True)
class Token:
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


_PY = re.compile(
    r"(?P<comment>\#[^\n]*)"
    r"|(?P<str>[rRbBuUfF]{0,2}(?:'''|\"\"\"|'|\"))"
    r"|(?P<name>[^\W\d]\w*)"
    r"|(?P<num>0[xXoObB][0-9a-fA-F_]+n?|\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?[jJn]?|\.\d[\d_]*(?:[eE][+-]?\d+)?[jJ]?)"
    r"|(?P<op>" + _ops_pattern(_PY_OPS) + r"|\S)"
    r"|(?P<nl>\n)"
    r"|(?P<ws>[ \t\f\r]+|\\\r?\n)"
)
_JS = re.compile(
    r"(?P<comment>//[^\n]*|/\*(?:.|\n)*?(?:\*/|\Z))"
    r"|(?P<str>['\"`])"
    r"|(?P<name>[A-Za-z_$\u0080-\uffff#][\w$\u0080-\uffff]*)"
    r"|(?P<num>0[xXoObB][0-9a-fA-F_]+n?|\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?[jJn]?|\.\d[\d_]*(?:[eE][+-]?\d+)?[jJ]?)"
    r"|(?P<op>" + _ops_pattern(_JS_OPS) + r"|\S)"
    r"|(?P<nl>\n)"
    r"|(?P<ws>[ \t\f\r\u00a0\ufeff]+)"
)
_JS_REGEX = re.compile(r"/(?![*/])(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n\[])+/[a-z]*")
# After these a `/` starts a regular expression rather than a division.
_JS_REGEX_AFTER_KEYWORDS = {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete"}
_JS_REGEX_AFTER_KEYWORDS |= {"void", "throw", "instanceof", "yield", "await"}


def _string_end(text: str, quote_at: int, quote: str, *, multiline: bool) -> int | None:
    """Offset just past the closing quote, or None when the string is unterminated."""
    i = quote_at + len(quote)
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if text.startswith(quote, i):
            return i + len(quote)
        if char == "\n" and not multiline:
            return None
        i += 1
    return None


def tokenize(text: str, language: str) -> list[Token]:
    """Every token of `text`, comments included; whitespace and newlines dropped."""
    python = language == "python"
    pattern = _PY if python else _JS
    tokens: list[Token] = []
    pos, line, n = 0, 1, len(text)
    while pos < n:
        match = pattern.match(text, pos)
        if match is None:  # cannot happen (\S and \n cover everything), but never loop
            pos += 1
            continue
        kind = match.lastgroup or "op"
        start, end = match.span()
        if kind == "str":
            quote = match.group(kind).lstrip("rRbBuUfF")
            multiline = len(quote) == 3 or quote == "`"
            closed = _string_end(text, end - len(quote), quote, multiline=multiline)
            if closed is not None:
                end = closed
            elif len(quote) == 3 or quote == "`":
                kind = "ustr"  # an unterminated block string swallows the rest
                end = n
            else:
                kind = "ustr"
                newline = text.find("\n", end)
                end = n if newline < 0 else newline
        elif kind == "op" and not python and text[start] == "/":
            previous = tokens[-1] if tokens else None
            if (
                previous is None
                or (previous.kind == "op" and previous.text not in (")", "]", "}"))
                or (previous.kind == "name" and previous.text in _JS_REGEX_AFTER_KEYWORDS)
            ):
                regex = _JS_REGEX.match(text, start)
                if regex is not None:
                    kind, end = "regex", regex.end()
        if kind not in ("nl", "ws"):
            tokens.append(Token(kind, start, end, line, text[start:end]))
        line += text.count("\n", start, end)
        pos = end
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
