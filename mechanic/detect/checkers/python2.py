"""Is a file that Python 3 cannot compile simply written in Python 2?

No Python 2 interpreter is needed. The file is re-read token by token with each
Python 2 construct (print and exec statements, `except X, e`, `raise X, "msg"`,
backticks, `<>`, `0777`, `10L`, `ur""`, tuple parameters, tabs worth 8 columns)
rewritten into a Python 3 equivalent, and the result is compiled. The rewrite is
only ever compiled, never written or sent anywhere: it need not mean exactly
what the original means, only parse exactly when the original parses as Python 2.

Python 2 files are not faults to repair: a "fix" that makes one compile as
Python 3 deletes a `raise` or turns a print statement into a tuple. But a
Python 3 file with one stray `print x` is a fault, so the verdict weighs the
evidence (see `Reading.verdict`):

- any syntax only Python 3 has (f-strings, annotations, keyword-only arguments,
  `nonlocal`, `async def`, `yield from`, `raise ... from`, `:=`, starred
  assignment, `print(..., end=...)`) means Python 3;
- print statements in a file that imports `print_function` are faults in Python 2 too;
- a lone print or exec statement, with nothing else Python 2 about the file, or
  print statements outnumbered by print calls, mean a Python 3 file with a typo.

Told that a tree is Python 2 (`python = "2"`), only the first two rules apply.
"""

from __future__ import annotations

import io
import itertools
import re
import tokenize
import warnings
from collections import Counter
from dataclasses import dataclass, field

PRINT = "print statement"
# Print statement idioms a Python 3 author does not type by mistake.
PRINT_TO = "print >>file"
PRINT_COMMA = "print x, (no newline)"
EXEC = "exec statement"
EXCEPT = "except X, e"
RAISE = 'raise X, "msg"'
BACKTICKS = "backticks"
NOT_EQUAL = "<>"
OCTAL = "octal 0777"
LONG = "long 10L"
UR_STRING = 'ur"" string'
TUPLE_PARAMS = "tuple parameters"
TABS = "tabs as 8 columns"
ASYNC_NAME = "async as a name"
BYTE_ESCAPES = "\\u in a byte string"
# Python 2 writes these, but a Python 3 file can hold one by mistake: alone they
# prove nothing.
STATEMENTS = frozenset({PRINT, EXEC})
# Valid Python 2 that is not specific to it (an old Python 3 reads it the same way).
SUPPORTING = frozenset({TABS, ASYNC_NAME, BYTE_ESCAPES})

# Modules only Python 2 has, under names no Python 3 module or class takes
# (not StringIO, ConfigParser or HTMLParser: io.StringIO and the like exist).
# Imported, they are evidence for a file whose one print statement is its only
# construct. Builtins like xrange are not: compatibility code names them too.
_PY2_MODULES = frozenset(
    {"urllib2", "urlparse", "cPickle", "cStringIO", "httplib", "__builtin__", "Tkinter", "commands"}
)
# Methods and attributes that exist only in Python 2: a Python 3 file never calls
# d.iteritems() (compatibility code calls six.iteritems(d) instead).
_PY2_METHODS = frozenset(
    {
        "has_key",
        "iteritems",
        "itervalues",
        "iterkeys",
        "xreadlines",
        "im_func",
        "im_self",
        "func_code",
    }
)
_PY2_ATTRIBUTES = frozenset(
    {("sys", "maxint"), ("string", "letters"), ("string", "lowercase"), ("string", "uppercase")}
)
_PRINT_KEYWORDS = frozenset({"end", "sep", "file", "flush"})
_COMPOUND = frozenset(
    {"if", "elif", "else", "while", "for", "try", "except", "finally", "with", "def", "class"}
)
_UR = frozenset({"ur", "UR", "Ur", "uR"})
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
_SKIP = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT})
_FSTRING_START = getattr(tokenize, "FSTRING_START", None)  # Python 3.12+
_SHEBANG = re.compile(rb"#![^\n]*\bpython(\d)?")


@dataclass(frozen=True)
class Edit:
    start: tuple[int, int]  # (row, col), 1-based rows as tokenize gives them
    end: tuple[int, int]
    text: str


@dataclass
class Reading:
    """What the tolerant re-read found in one file."""

    constructs: Counter[str] = field(default_factory=Counter)
    first_line: int | None = None  # where the first Python 2 construct is
    python3_only: list[str] = field(default_factory=list)  # syntax Python 2 lacks
    print_calls: int = 0  # `print(...)` at the start of a statement
    print_function: bool = False  # from __future__ import print_function
    print_keywords: list[str] = field(default_factory=list)  # print(x, end=""), print(*a)
    python2_names: bool = False
    shebang: str | None = None  # "2", "3" or None
    remaining: str | None = None  # the error left once the constructs are rewritten
    remaining_line: int | None = None

    def note(self, kind: str, row: int) -> None:
        self.constructs[kind] += 1
        if self.first_line is None or row < self.first_line:
            self.first_line = row

    def python3_evidence(self, *, told: bool) -> str | None:
        """Why this file is Python 3 after all, or None."""
        if self.python3_only:
            return self.python3_only[0]
        if self.print_keywords and not self.print_function:
            return self.print_keywords[0]
        if self.constructs[PRINT] and self.print_function:
            return "imports print_function, so its print statements are errors in Python 2 too"
        if told:
            return None
        if self.shebang == "3":
            return "a python3 shebang"
        specific = set(self.constructs) - STATEMENTS - SUPPORTING
        if not specific:
            statements = self.constructs[PRINT] + self.constructs[EXEC]
            if statements == 1 and not (self.python2_names or self.shebang == "2"):
                return "one print or exec statement, and nothing else Python 2 about it"
            if self.constructs[PRINT] and self.print_calls >= self.constructs[PRINT]:
                return "more print calls than print statements"
        return None

    def verdict(self, *, told: bool = False) -> str | None:
        """A reason to hold the file as Python 2, or None when it is judged as Python 3.

        `told`: the watch says its files are Python 2 (`python = "2"`)."""
        if not (set(self.constructs) if told else set(self.constructs) - SUPPORTING):
            return None
        if self.python3_evidence(told=told) is not None:
            return None
        found = ", ".join(
            f"{kind} ×{count}" if count > 1 else kind for kind, count in self.constructs.items()
        )
        where = f"line {self.first_line}" if self.first_line else "the start"
        if self.remaining is None:
            return (
                f"written in Python 2 ({found}; first at {where}): held, never rewritten nor"
                ' sent to a model (python = "2" in its [[watch]] stops reporting it, "3"'
                " repairs it as Python 3)"
            )
        at = f"line {self.remaining_line}: " if self.remaining_line else ""
        return (
            f"written in Python 2 ({found}), and broken in Python 2 too ({at}{self.remaining}):"
            " mechanic checks only Python 3, so it cannot tell a good fix from a bad one and"
            " leaves this file to you"
        )


# What the line Python 3 first refuses holds when that is a Python 2 construct.
# A `def` or `lambda` line is Python 2 only with a tuple parameter (a second
# parenthesis): `def main(:` is a Python 3 typo, and re-reading a big file for it
# cost seconds.
_HINT = re.compile(
    rb"\b(print|exec|except|raise|async|await|True|False|None)\b"
    rb"|\bdef\s+\w+\s*\([^)\n]*\(|\blambda\s*\("
    rb"|`|<>|\b0[0-7]|\d[lL]\b|\b[uU][rR][\x27\"]|\t|\\[uUN]"
)


def worth_reading(source: bytes, line: int | None) -> bool:
    """Whether Python 3's first error, at `line`, can be a Python 2 construct: a
    cheap look that spares the re-read for files broken in any other way."""
    if line is None:
        return False  # undecodable or NUL bytes: Python 2 refuses those too
    lines = source.split(b"\n", line)[max(line - 2, 0) : line]
    return any(_HINT.search(text) for text in lines)


def read(source: bytes) -> Reading | None:
    """The tolerant re-read of `source` (bytes that fail Python 3's compile()).

    None when the file cannot be read even so (undecodable, unterminated strings,
    an indentation Python 2 refuses too): it is then not Python 2 either.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        text = source.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return None
    text = text.removeprefix("\ufeff")
    lines = io.StringIO(text).readlines()  # split where tokenize splits: not at \f or \v
    # Python 2 reads a tab as the next multiple of 8 columns, and mixes them with
    # spaces freely; Python 3 (and its tokenizer, since 3.12) refuses that.
    expanded = [_expand_indent(line) for line in lines]
    reading = Reading()
    match = _SHEBANG.match(source)
    if match:
        reading.shebang = match.group(1).decode() if match.group(1) else None
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("".join(expanded)).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    edits = _Scanner(tokens, reading).edits()
    rewritten = _apply(expanded, edits)
    error = _compile_error(rewritten)
    # Did Python 3 need the tabs read as Python 2 reads them?
    if (
        error is None
        and expanded != lines
        and _compile_error(_apply(lines, _shifted(edits, lines, expanded))) is not None
    ):
        tabbed = [i + 1 for i, (a, b) in enumerate(zip(lines, expanded, strict=True)) if a != b]
        reading.note(TABS, tabbed[0])
    if error is not None:
        reading.remaining, reading.remaining_line = error
    return reading


def _expand_indent(line: str) -> str:
    body = line.lstrip(" \t\f")
    indent = line[: len(line) - len(body)]
    return indent.expandtabs(8) + body if "\t" in indent else line


def _shifted(edits: list[Edit], lines: list[str], expanded: list[str]) -> list[Edit]:
    """`edits` made on the tab-expanded lines, moved back onto the original ones."""

    def move(row: int, col: int) -> tuple[int, int]:
        if row > len(lines):
            return row, col
        delta = len(expanded[row - 1]) - len(lines[row - 1])
        return row, max(0, col - delta)

    return [Edit(move(*e.start), move(*e.end), e.text) for e in edits]


def _apply(lines: list[str], edits: list[Edit]) -> str:
    """The text with each edit's span replaced, in one pass (edits do not overlap)."""
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    text = "".join(lines)

    def offset(row: int, col: int) -> int:
        return starts[min(row, len(lines) + 1) - 1] + col if row <= len(lines) else len(text)

    pieces, at = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        begin, stop = offset(*edit.start), offset(*edit.end)
        if begin < at:
            continue  # overlaps an edit already made: keep the first
        pieces += [text[at:begin], edit.text]
        at = stop
    pieces.append(text[at:])
    return "".join(pieces)


def _compile_error(text: str) -> tuple[str, int | None] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<python2>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{type(exc).__name__}: {exc.msg}", exc.lineno
    except ValueError as exc:
        return f"{type(exc).__name__}: {exc}", None
    return None


class _Scanner:
    """One pass over the tokens: edits for Python 2 constructs, notes for evidence.

    Linear in the file: depth and statement state are kept as the pass goes, and
    the forward looks (a statement's end, a bracket's match) stay within one
    statement."""

    def __init__(self, tokens: list[tokenize.TokenInfo], reading: Reading) -> None:
        keep = (tokenize.NEWLINE, tokenize.ENDMARKER)
        self.tokens = [
            t for t in tokens if t.type in keep or (t.type not in _SKIP and t.string.strip())
        ]
        self.reading = reading
        self.out: list[Edit] = []
        self._ends: dict[int, int] = {}

    def edits(self) -> list[Edit]:
        tokens, reading = self.tokens, self.reading
        async_def = any(
            a.string == "async" and b.string == "def" for a, b in itertools.pairwise(tokens)
        )
        backtick_open = False
        start, word, depth, lambdas = 0, "", 0, 0
        for index, token in enumerate(tokens):
            kind, string = token.type, token.string
            prev = tokens[index - 1] if index else None
            if index == start:
                word = string if kind == tokenize.NAME else ""
                lambdas = 0
                self._statement(index)
            is_op = kind == tokenize.OP
            if kind == tokenize.NEWLINE or (is_op and string == ";" and depth == 0):
                start, depth = index + 1, 0
            elif is_op and string in _OPEN:
                depth += 1
            elif is_op and string in _CLOSE:
                depth = max(depth - 1, 0)
            elif is_op and string == ":" and depth == 0:
                if lambdas:
                    lambdas -= 1
                elif word in _COMPOUND:
                    start = index + 1  # `if x: print y`: a statement after the header
                elif word not in ("print", "exec"):
                    reading.python3_only.append("a variable annotation")
            elif (
                is_op
                and string == "*"
                and depth == 0
                and not lambdas
                and word not in _NOT_TARGETS
                and (index == start or (prev is not None and prev.string in (",", "=")))
            ):
                reading.python3_only.append("a starred assignment")
            if string == "`" and kind in (tokenize.ERRORTOKEN, tokenize.OP):
                self._edit(token, ")" if backtick_open else "repr(", BACKTICKS)
                backtick_open = not backtick_open
            elif is_op and string == "<>":
                self._edit(token, "!=", NOT_EQUAL)
            elif is_op and string == ">" and prev is not None and _adjacent(prev, token, "<"):
                # 3.11 reads `<>` as two tokens
                self.out.append(Edit(prev.start, token.end, "!="))
                reading.note(NOT_EQUAL, token.start[0])
            elif is_op and string in ("->", ":="):
                what = "a return annotation" if string == "->" else "an assignment expression"
                reading.python3_only.append(what)
            elif kind == tokenize.NUMBER:
                self._number(index)
            elif kind == tokenize.NAME:
                if string == "lambda" and depth == 0:
                    lambdas += 1
                self._name(index, async_def)
            elif kind == tokenize.STRING and "f" in _prefix(string).lower():
                reading.python3_only.append("an f-string")
            elif (
                kind == tokenize.STRING
                and not _prefix(string)
                and not (prev is not None and prev.string in _UR and prev.end == token.start)
                and _bad_escape(string)
            ):
                # Python 2's plain strings are bytes, where \u is two characters.
                self.out.append(Edit(token.start, token.start, "r"))
                reading.note(BYTE_ESCAPES, token.start[0])
            elif _FSTRING_START is not None and kind == _FSTRING_START:
                reading.python3_only.append("an f-string")
        return self.out

    def _edit(self, token: tokenize.TokenInfo, text: str, kind: str) -> None:
        self.out.append(Edit(token.start, token.end, text))
        self.reading.note(kind, token.start[0])

    def _end(self, index: int) -> int:
        """Index of the NEWLINE (or `;` at depth 0) that ends the statement at `index`."""
        if index not in self._ends:
            depth, position = 0, index
            for position in range(index, len(self.tokens)):
                token = self.tokens[position]
                if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                    break
                if token.type == tokenize.OP:
                    if token.string in _OPEN:
                        depth += 1
                    elif token.string in _CLOSE:
                        depth -= 1
                    elif token.string == ";" and depth <= 0:
                        break
            self._ends[index] = position
        return self._ends[index]

    def _top_level(self, begin: int, end: int, strings: frozenset[str]) -> list[int]:
        """Indexes of the tokens spelled as one of `strings`, at depth 0, in [begin, end)."""
        found, depth = [], 0
        for position in range(begin, end):
            token = self.tokens[position]
            if token.type == tokenize.OP and token.string in _OPEN:
                depth += 1
            elif token.type == tokenize.OP and token.string in _CLOSE:
                depth -= 1
            elif depth == 0 and token.string in strings:
                found.append(position)
        return found

    def _matching(self, open_index: int) -> int:
        """Index of the bracket closing the one at `open_index` (or of the statement's end)."""
        depth, end = 0, self._end(open_index)
        for position in range(open_index, end):
            token = self.tokens[position]
            if token.type == tokenize.OP and token.string in _OPEN:
                depth += 1
            elif token.type == tokenize.OP and token.string in _CLOSE:
                depth -= 1
                if depth == 0:
                    return position
        return end

    # --- statements -----------------------------------------------------------

    def _statement(self, index: int) -> None:
        tokens, reading = self.tokens, self.reading
        first = tokens[index]
        if first.type != tokenize.NAME or index + 1 >= len(tokens):
            return
        end, nxt, word = self._end(index), tokens[index + 1], first.string
        if word == "print":
            self._print(index, end, nxt)
        elif word == "exec" and _starts_operand(nxt) and nxt.string != "(":
            for position in self._top_level(index + 1, end, frozenset({"in"})):
                self.out.append(Edit(tokens[position].start, tokens[position].end, ","))
            self._wrap(index, end, EXEC)
        elif word == "except":
            colons = self._top_level(index + 1, end, frozenset({":"}))
            colon = colons[0] if colons else end
            commas = self._top_level(index + 1, colon, frozenset({","}))
            if commas:
                # Python 2 binds any target there, a tuple too: `except E, (code, text):`.
                comma = tokens[commas[0]]
                self.out.append(Edit(comma.start, tokens[colon - 1].end, " as _py2_e"))
                reading.note(EXCEPT, comma.start[0])
        elif word == "raise":
            commas = self._top_level(index + 1, end, frozenset({","}))
            if commas:
                comma, last = tokens[commas[0]], tokens[end - 1]
                self.out.append(Edit(comma.start, comma.end, "("))
                self.out.append(Edit(last.end, last.end, ")"))
                reading.note(RAISE, comma.start[0])
            if self._top_level(index + 1, end, frozenset({"from"})):
                reading.python3_only.append("raise ... from")
        elif word == "nonlocal":
            reading.python3_only.append("nonlocal")
        elif word == "from" and nxt.string == "__future__":
            reading.print_function |= any(t.string == "print_function" for t in tokens[index:end])

    def _print(self, index: int, end: int, nxt: tokenize.TokenInfo) -> None:
        if nxt.type == tokenize.OP and nxt.string == "(":
            self.reading.print_calls += 1
            inside = self.tokens[index + 2 : self._matching(index + 1)]
            for a, b in itertools.pairwise(inside):
                if a.string in _PRINT_KEYWORDS and b.string == "=":
                    self.reading.print_keywords.append(f"print(..., {a.string}=...)")
                    break
            if inside and inside[0].string == "*":
                self.reading.print_keywords.append("print(*args)")
            return
        if nxt.type == tokenize.OP and nxt.string == ">>":
            self.out.append(Edit(nxt.start, nxt.end, ""))  # print >>f, x: f becomes an argument
            self.reading.note(PRINT_TO, nxt.start[0])
        elif not _starts_operand(nxt):
            return  # `print` alone, `print = ...`, `print.x`: Python 3 reads those too
        elif self.tokens[end - 1].string == "," and end - 1 > index + 1:
            self.reading.note(PRINT_COMMA, nxt.start[0])
        self._wrap(index, end, PRINT)

    def _wrap(self, index: int, end: int, kind: str) -> None:
        """`word operands` → `word(operands)`."""
        word, last = self.tokens[index], self.tokens[end - 1]
        self.out.append(Edit(word.end, word.end, "("))
        self.out.append(Edit(last.end, last.end, ")"))
        self.reading.note(kind, word.start[0])

    # --- names and numbers --------------------------------------------------------

    def _name(self, index: int, async_def: bool) -> None:
        tokens, reading = self.tokens, self.reading
        token = tokens[index]
        nxt = tokens[index + 1] if index + 1 < len(tokens) else None
        string = token.string
        if not string.isascii():
            reading.python3_only.append("a non-ASCII name")
        elif string in _UR and nxt is not None and nxt.type == tokenize.STRING:
            if nxt.start == token.end:
                self._edit(token, "r", UR_STRING)
        elif string in ("async", "await"):
            if string == "async" and nxt is not None and nxt.string == "def":
                reading.python3_only.append("async def")
            elif not async_def and not (nxt is not None and nxt.string in ("for", "with")):
                self._edit(token, string + "_", ASYNC_NAME)
        elif string == "yield" and nxt is not None and nxt.string == "from":
            reading.python3_only.append("yield from")
        elif string in ("def", "lambda"):
            self._parameters(index)
        elif string in _PY2_MODULES and index and tokens[index - 1].string in ("import", "from"):
            reading.python2_names = True
        elif index > 1 and tokens[index - 1].string == ".":
            owner = tokens[index - 2].string
            if string in _PY2_METHODS or (owner, string) in _PY2_ATTRIBUTES:
                reading.python2_names = True

    def _parameters(self, index: int) -> None:
        """Tuple parameters (Python 2), annotations and a bare `*` (Python 3)."""
        tokens = self.tokens
        is_def = tokens[index].string == "def"
        if is_def:
            if index + 2 >= len(tokens) or tokens[index + 2].string != "(":
                return
            begin, stop = index + 3, self._matching(index + 2)
        else:
            begin, stop = index + 1, self._end(index)
        depth, lambdas, position = 0, 0, begin
        while position < stop:
            token = tokens[position]
            if token.type == tokenize.OP and token.string in _OPEN:
                previous = tokens[position - 1].string
                if depth == 0 and token.string == "(" and previous in ("(", ",", "lambda"):
                    close = self._matching(position)
                    newlines = "\n" * (tokens[close].end[0] - token.start[0])
                    name = f"_py2_{position}{newlines}"
                    self.out.append(Edit(token.start, tokens[close].end, name))
                    self.reading.note(TUPLE_PARAMS, token.start[0])
                    position = close + 1
                    continue
                depth += 1
            elif token.type == tokenize.OP and token.string in _CLOSE:
                depth -= 1
                if depth < 0:
                    return  # the end of a lambda inside brackets
            elif depth == 0 and token.string == "lambda":
                lambdas += 1
            elif depth == 0 and token.string == ":":
                if not is_def:
                    return  # the lambda's own colon
                if lambdas:
                    lambdas -= 1
                else:
                    self.reading.python3_only.append("a parameter annotation")
            elif depth == 0 and token.string == "*" and not lambdas:
                following = tokens[position + 1].string if position + 1 < stop else ")"
                if following in (",", ")", ":"):
                    self.reading.python3_only.append("keyword-only arguments")
            position += 1

    def _number(self, index: int) -> None:
        tokens = self.tokens
        token = tokens[index]
        nxt = tokens[index + 1] if index + 1 < len(tokens) else None
        string = token.string
        if _OLD_OCTAL.fullmatch(string):  # 3.12+ reads 0777 as one token
            self._edit(token, "0o" + string.lstrip("0"), OCTAL)
        elif (  # 3.11 reads it as the tokens 0 and 777 (or 00 and 40000)
            re.fullmatch("0+", string)
            and nxt is not None
            and nxt.type == tokenize.NUMBER
            and nxt.start == token.end
            and re.fullmatch(r"[0-7]+", nxt.string)
        ):
            self.out.append(Edit(token.start, nxt.end, "0o" + nxt.string))
            self.reading.note(OCTAL, token.start[0])
        # A long suffix follows the last digits: 10L, 0xFFL, 0777L.
        if (
            nxt is not None
            and nxt.type == tokenize.NAME
            and nxt.string in ("l", "L")
            and nxt.start == token.end
        ):
            after = self.tokens[index + 2] if index + 2 < len(self.tokens) else None
            # 7L.real: without the L, "7." would read as a float.
            dot = after is not None and after.string == "." and after.start == nxt.end
            self._edit(nxt, " " if dot else "", LONG)


_NOT_TARGETS = frozenset({"print", "exec", "return", "yield", "del", "import", "from", "raise"})
_OLD_OCTAL = re.compile(r"0+[1-7][0-7]*")
_TEXT_ESCAPE = re.compile(r"(?<!\\)(\\\\)*\\[uUN]")


def _bad_escape(string: str) -> bool:
    """A plain string whose \\u, \\U or \\N escape Python 3 refuses."""
    if not _TEXT_ESCAPE.search(string):
        return False
    try:
        compile(string, "<string>", "eval", dont_inherit=True)
    except SyntaxError:
        return True
    return False


def _adjacent(prev: tokenize.TokenInfo | None, token: tokenize.TokenInfo, string: str) -> bool:
    return prev is not None and prev.string == string and prev.end == token.start


def _prefix(string: str) -> str:
    return string[: len(string) - len(string.lstrip("rRbBuUfF"))]


_NOT_OPERANDS = frozenset({"in", "is", "and", "or", "if", "else", "for"})
# Not `-x`: `print -x` is valid Python 3 too (a subtraction), so it proves nothing.
_OPERAND_OPS = frozenset({"(", "[", "{", "`"})


def _starts_operand(token: tokenize.TokenInfo) -> bool:
    """Whether `token` can begin the operands of a print or exec statement."""
    if token.type in (tokenize.NAME, tokenize.NUMBER, tokenize.STRING):
        return token.string not in _NOT_OPERANDS
    if _FSTRING_START is not None and token.type == _FSTRING_START:
        return True
    return token.type in (tokenize.OP, tokenize.ERRORTOKEN) and token.string in _OPERAND_OPS
