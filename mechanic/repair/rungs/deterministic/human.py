"""The fixes people make, proposed before any edit that merely parses.

A person who writes `if n = 0:` meant `==`, `print total` in a Python 3 file meant
`print(total)`, `range(1:10)` meant `range(1, 10)`, and an empty `for` body wants
`pass`. A search over small token edits finds something that parses for each of these,
but often something else (`n := 0`, `print, total`, `range(110)`), so these idioms
are generated here with costs below every other candidate, and are tried first.

Each rule looks only at the lines around the reported error, and proposes an edit
only where its pattern is unambiguous; the parser still decides whether it is valid.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from mechanic.repair.rungs.deterministic.tokens import CLOSERS, OPENERS, Token

if TYPE_CHECKING:
    from mechanic.repair.rungs.deterministic.generator import Generator

LONG_LINE_TOKENS = 2000
FIRST = -3.0  # the cost of an idiom: below every generated edit (those cost >= -1)


def _same(words: str) -> dict[str, str]:
    return {word: word for word in words.split()}


# Keywords people type in the wrong case, by their lower-case spelling.
_PY_CASE = _same(
    "and or not if elif else for while in is return def class import from as with try"
    " except finally pass break continue lambda yield raise global nonlocal del assert"
)
_PY_CONSTANTS = {"true": "True", "false": "False", "none": "None", "null": "None"}
_JS_CASE = _same(
    "function return if else for while var let const new typeof throw try catch"
    " finally switch case break continue class extends delete instanceof do"
)
_JS_CONSTANTS = {"true": "true", "false": "false", "null": "null", "none": "null"}
_PY_HEADERS = ("if", "elif", "while", "assert")
_NOT_CALL_BEFORE = frozenset(
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
    ]
)
_EMPTY_BODY = re.compile(r"expected an indented block after .* on line (\d+)")
_NEW_CLAUSE = ("def", "class", "@", "except", "else", "elif", "finally", "case", "async")


def propose(g: Generator) -> None:
    """Add the idioms that apply around `g`'s error, each at a cost below FIRST + 1."""
    rules: tuple[Callable[[Generator, int], None], ...]
    if g.python:
        rules = (_py_condition_assign, _py_operators, _py_print, _py_two_statement_forms)
        rules += (_keyword_case, _py_else_if, _py_colon_for_comma, _unquoted_text)
    else:
        rules = (_js_condition_assign, _js_word_operators, _js_bare_condition, _keyword_case)
        rules += (_js_elif, _unquoted_text)
    for line in range(max(1, g.line - 2), min(g.lines, g.line + 1) + 1):
        if not g.tokens_on(line) or len(g.tokens_on(line)) > LONG_LINE_TOKENS:
            continue  # an idiom is a person's line, not a minified file's
        before = set(g.trusted)
        for rule in rules:
            rule(g, line)
            g.tick()
        _combine(g, line, [edit for edit in g.trusted - before if len(edit) == 1])
    if g.python:
        _py_empty_block(g)


def _combine(g: Generator, line: int, singles: list[tuple[tuple[int, int, str], ...]]) -> None:
    """Several idioms on one line (`a === b && c <> 3`): all of them at once, after
    each alone, the overlapping alternatives of one token left out."""
    spans: list[tuple[int, int, str]] = []
    for (span,) in sorted(singles):
        if (spans and span[0] < spans[-1][1]) or any(span[0] == s[0] for s in spans):
            continue
        spans.append(span)
    if len(spans) > 1:
        _trusted(g, _cost(g, line, 0.6), *spans)


def _cost(g: Generator, line: int, extra: float = 0.0) -> float:
    return FIRST + abs(line - g.line) * 0.1 + extra


def _trusted(g: Generator, cost: float, *spans: tuple[int, int, str]) -> None:
    g.add(cost, *spans)
    g.trusted.add(tuple(sorted(spans)))


def _spaced(g: Generator, start: int, end: int, word: str) -> tuple[int, int, str]:
    """Replace text[start:end] by `word`, with a space either side where none is."""
    before = " " if start > 0 and g.text[start - 1] not in " \t(" else ""
    after = " " if end < len(g.text) and g.text[end] not in " \t)" else ""
    return (start, end, before + word + after)


def _contexts(tokens: list[Token]) -> list[int]:
    """For each token of a line, the index (in `tokens`) of the innermost bracket open
    around it, or -1 at the line's top level."""
    stack: list[int] = []
    out = []
    for i, token in enumerate(tokens):
        out.append(stack[-1] if stack else -1)
        if token.kind == "op" and token.text in OPENERS:
            stack.append(i)
        elif token.kind == "op" and token.text in CLOSERS and stack:
            stack.pop()
    return out


def _is_call(tokens: list[Token], opener: int, keywords: frozenset[str]) -> bool:
    if opener <= 0:
        return False
    before = tokens[opener - 1]
    if before.kind == "name":
        return before.text not in keywords and before.text not in _NOT_CALL_BEFORE
    return before.text in (")", "]") or before.kind == "str"


def _adjacent(a: Token, b: Token) -> bool:
    return a.end == b.start


def _unquoted_text(g: Generator, line: int) -> None:
    """`print(Hello world)` -> `print("Hello world")`: words a person meant as text, in
    a call's parentheses on one line, each a word the file uses nowhere else and no
    builtin. Quoted with the file's usual quote."""
    tokens = g.tokens_on(line)
    contexts = _contexts(tokens)
    for i, opener in enumerate(tokens):
        if opener.text != "(" or not _is_call(tokens, i, g.keywords):
            continue
        close = next(
            (k for k in range(i + 1, len(tokens)) if contexts[k] == i and tokens[k].text == ")"),
            None,
        )
        if close is None or close - i < 3:
            continue
        inside = tokens[i + 1 : close]
        if any(t.kind not in ("name", "num") and t.text not in "!?.-'" for t in inside):
            continue
        words = g.keywords - {"in", "is", "and", "or", "not"}
        if any(t.kind == "name" and t.text in words for t in inside):
            continue
        gaps = [g.text[a.end : b.start] for a, b in itertools.pairwise(inside)]
        if not any(gap.strip() == "" and gap for gap in gaps):
            continue
        names = [t for t in inside if t.kind == "name"]
        if not names or not all(
            g.counts.get(t.text, 0) == 1 and not g.builtin(t.text) for t in names
        ):
            continue  # `map(frozenset iterable)`: names of the program, not text
        body = g.text[inside[0].start : inside[-1].end]
        quote = "'" if g.text.count("'") > g.text.count('"') else '"'
        if quote in body:
            quote = '"' if quote == "'" else "'"
            if quote in body:
                continue
        _trusted(
            g,
            _cost(g, line, 0.4),
            (inside[0].start, inside[0].start, quote),
            (inside[-1].end, inside[-1].end, quote),
        )


# --- Python ----------------------------------------------------------------------------


def _py_condition_assign(g: Generator, line: int) -> None:
    """`if n = 0:` -> `if n == 0:`, also in `while`, `elif`, `assert`, a conditional
    expression, or a parenthesised comparison; never a keyword argument's `=`."""
    tokens = g.tokens_on(line)
    words = {t.text for t in tokens if t.kind == "name"}
    if tokens[0].text not in _PY_HEADERS and "if" not in words and "while" not in words:
        return
    contexts = _contexts(tokens)
    for i, token in enumerate(tokens):
        if token.text != "=" or token.kind != "op":
            continue
        opener = contexts[i]
        filtered = opener >= 0 and any(t.text == "if" for t in tokens[opener:i])
        keyword_argument = tokens[opener].text != "(" or _is_call(tokens, opener, g.keywords)
        if opener >= 0 and not filtered and keyword_argument:
            continue  # f(key=value), {x = 1}: not a comparison
        _trusted(g, _cost(g, line), (token.start, token.end, "=="))


def _py_operators(g: Generator, line: int) -> None:
    """Other languages' operators: `!x`, `&&`, `||`, `===`, `!==`, and Python 2's `<>`."""
    tokens = g.tokens_on(line)
    for i, token in enumerate(tokens):
        if token.kind != "op":
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.text == "!" and following is not None and following.text != "=":
            lead = "" if _after_space(g, token.start) else " "
            # `!done` and `! done` both become `not done`.
            _trusted(g, _cost(g, line), (token.start, following.start, lead + "not "))
        elif following is not None and _adjacent(token, following):
            pair = token.text + following.text
            if pair in ("&&", "||"):
                word = "and" if pair == "&&" else "or"
                _trusted(g, _cost(g, line), _spaced(g, token.start, following.end, word))
            elif pair in ("===", "!=="):
                _trusted(g, _cost(g, line), (token.start, following.end, pair[:2]))
            elif pair == "<>":
                _trusted(g, _cost(g, line), (token.start, following.end, "!="))


def _after_space(g: Generator, offset: int) -> bool:
    return offset == 0 or g.text[offset - 1] in " \t(\n"


def _statement_end(g: Generator, line: int) -> int | None:
    """End of the code on `line` (before a comment and trailing blanks), or None when
    the statement goes on past the line (an open bracket, a backslash)."""
    tokens = g.tokens_on(line)
    depth = 0
    for token in tokens:
        if token.kind == "op" and token.text in OPENERS:
            depth += 1
        elif token.kind == "op" and token.text in CLOSERS:
            depth -= 1
    if depth != 0 or tokens[-1].text == "\\" or tokens[-1].kind == "ustr":
        return None
    return tokens[-1].end


def _py_print(g: Generator, line: int) -> None:
    """A Python 2 `print x` (or `exec code`) in a Python 3 file -> `print(x)`. Not
    `print x,` (Python 2's "no newline") nor `print >>f, x`: no sure translation."""
    tokens = g.tokens_on(line)
    first = tokens[0]
    at_start = first.start == g.starts[line - 1] + g.indent_of(line)
    if first.text not in ("print", "exec") or not at_start:
        return
    if len(tokens) < 2 or tokens[1].line != line:
        return
    nxt = tokens[1]
    if nxt.kind == "op" and nxt.text not in ("(", "[", "{", "-", "~", "`"):
        return  # print = 3, print.x, print >> f, print(...)
    if nxt.text == "(":
        return
    end = _statement_end(g, line)
    if end is None or tokens[-1].text in (",", ";"):
        return
    _trusted(g, _cost(g, line), (first.end, nxt.start, "("), (end, end, ")"))


def _py_two_statement_forms(g: Generator, line: int) -> None:
    """Python 2's `raise E, "msg"` -> `raise E("msg")` and `except E, e:` ->
    `except E as e:` in a Python 3 file."""
    tokens = g.tokens_on(line)
    if len(tokens) < 4 or tokens[1].kind != "name":
        return
    comma = next((i for i, t in enumerate(tokens) if t.text == ","), None)
    if comma is None or any(t.text in OPENERS for t in tokens[1:comma]):
        return
    if tokens[0].text == "raise":
        end = _statement_end(g, line)
        contexts = _contexts(tokens)
        more = any(t.text == "," and contexts[k] < 0 for k, t in enumerate(tokens) if k > comma)
        if end is None or more:
            return  # `raise E, "msg", tb` passes a traceback: no sure translation
        after = tokens[comma + 1].start
        _trusted(g, _cost(g, line), (tokens[comma - 1].end, after, "("), (end, end, ")"))
    elif tokens[0].text == "except" and tokens[-1].text == ":" and comma + 2 == len(tokens) - 1:
        name = tokens[comma + 1]
        if name.kind == "name":
            _trusted(g, _cost(g, line), (tokens[comma].start, name.start, " as "))


def _keyword_case(g: Generator, line: int) -> None:
    """`OR`, `And`, `Return`, `TRUE`: a keyword in the wrong case. Only words the file
    uses nowhere else (`OR` could be a constant defined elsewhere). The constants
    (`true`, `none`) are names, not syntax errors, so they are only fixed together with
    a keyword on the same lines."""
    case = _PY_CASE if g.python else _JS_CASE
    constants = _PY_CONSTANTS if g.python else _JS_CONSTANTS
    if line != g.line and line != g.line - 1:
        return
    words, values = [], []
    for other in range(max(1, line - 1), min(g.lines, line + 1) + 1):
        for token in g.tokens_on(other):
            if token.kind != "name" or token.text in g.keywords:
                continue
            lower = token.text.lower()
            if g.counts.get(token.text, 0) > _occurrences(g, token.text, line):
                continue  # used elsewhere: a name of the file's, not a typo
            if lower in case:
                words.append((token.start, token.end, case[lower]))
            elif lower in constants and constants[lower] != token.text:
                values.append((token.start, token.end, constants[lower]))
    spans = sorted(set(words))
    for span in spans:
        _trusted(g, _cost(g, line, 0.2), span)
    if spans and values:
        _trusted(g, _cost(g, line, 0.1), *sorted(set(spans + values)))


def _occurrences(g: Generator, word: str, line: int) -> int:
    return sum(
        1
        for other in range(max(1, line - 1), min(g.lines, line + 1) + 1)
        for token in g.tokens_on(other)
        if token.text == word
    )


def _py_else_if(g: Generator, line: int) -> None:
    """`else if x:` (and `elsif`, `elseif`, `else if` on one line) -> `elif x:`."""
    tokens = g.tokens_on(line)
    first = tokens[0]
    if first.text == "else" and len(tokens) > 2 and tokens[1].text == "if":
        _trusted(g, _cost(g, line), (first.start, tokens[1].end, "elif"))
    elif (
        first.kind == "name"
        and first.text.lower() in ("elsif", "elseif", "elif")
        and first.text != "elif"
        and g.counts.get(first.text, 0) == 1
    ):
        _trusted(g, _cost(g, line), (first.start, first.end, "elif"))


def _py_colon_for_comma(g: Generator, line: int) -> None:
    """`range(1:10)` -> `range(1, 10)`: a colon between a call's arguments, where a
    slice cannot be, is the comma the author meant."""
    tokens = g.tokens_on(line)
    contexts = _contexts(tokens)
    for i, token in enumerate(tokens):
        if token.text != ":" or contexts[i] < 0:
            continue
        opener = contexts[i]
        if tokens[opener].text != "(" or not _is_call(tokens, opener, g.keywords):
            continue
        if any(t.text == "lambda" for t in tokens[opener:i]):
            continue
        space = "" if token.end < len(g.text) and g.text[token.end] in " \t" else " "
        _trusted(g, _cost(g, line, 0.3), (token.start, token.end, "," + space))


def _py_empty_block(g: Generator) -> None:
    """`expected an indented block after 'for' statement on line 3`: the author either
    left the block empty (`pass`) or the block lost its indentation. Which one the
    layout shows: a blank line, a dedent, or a new clause or definition after the
    header means an empty block; code right below the header at its level means
    lost indentation, and a block of such lines is re-indented together."""
    found = _EMPTY_BODY.search(g.message)
    if found is None:
        return
    header = int(found.group(1))
    if not 1 <= header <= g.lines or not g.tokens_on(header):
        return
    header_end_line = header
    for candidate in range(header, min(g.lines, header + 20) + 1):  # a header over lines
        tokens = g.tokens_on(candidate)
        if tokens and tokens[-1].text == ":":
            header_end_line = candidate
            break
    own = g.indent_text(header)
    unit = g.indent_unit
    following = _next_code_line(g, header_end_line)
    blank_between = following is not None and following > header_end_line + 1
    pass_first = following is None or blank_between
    if following is not None and not pass_first:
        first = g.tokens_on(following)[0].text
        pass_first = g.indent_of(following) < len(own) or first in _NEW_CLAUSE
    end = g.line_end(header_end_line)
    pass_edit = (end, end, "\n" + own + unit + "pass")
    if pass_first:
        _trusted(g, FIRST, pass_edit)
        return
    assert following is not None
    if g.indent_of(following) != len(own):
        return
    # Lost indentation: the line alone, or the block of lines it starts.
    header_word = g.tokens_on(header)[0].text
    after = _next_code_line(g, following)
    level = after is not None and g.indent_of(after) == len(own)
    if level and header_word not in ("def", "class", "async"):
        # `for x in xs:` then lines at its own level: which of them were its body
        # (one, some, or none and an empty body) the layout cannot tell.
        g.refuse = "the layout does not show which lines belong to the block"
        return
    runs = _runs(g, following, len(own))
    for rank, run_end in enumerate(runs):
        spans = tuple(
            (g.starts[n - 1], g.starts[n - 1], unit)
            for n in range(following, run_end + 1)
            if g.tokens_on(n) and g.indent_of(n) >= len(own)
        )
        if not spans:
            continue
        block_first = header_word in ("def", "class", "async") and run_end > following
        cost = FIRST + (0.0 if block_first else 0.5) + rank * 0.01
        if run_end == following:
            cost = FIRST + 0.2
        _trusted(g, cost, *spans)


def _next_code_line(g: Generator, line: int) -> int | None:
    for other in range(line + 1, min(g.lines, line + 400) + 1):
        g.tick()
        tokens = g.tokens_on(other)
        if tokens and tokens[0].line == other:
            return other
    return None


def _runs(g: Generator, first: int, level: int) -> list[int]:
    """Last lines of the candidate blocks starting at `first`: the line alone, up to the
    first blank line, up to the next definition at this level, up to a dedent."""
    ends = [first]
    last_code = first
    saw_blank = False
    for other in range(first + 1, min(g.lines, first + 400) + 1):
        g.tick()
        tokens = g.tokens_on(other)
        if not tokens or tokens[0].line != other:
            if not g.text[g.starts[other - 1] : g.line_end(other)].strip() and not saw_blank:
                saw_blank = True
                ends.append(last_code)
            continue
        indent = g.indent_of(other)
        if indent < level or (indent == level and tokens[0].text in _NEW_CLAUSE):
            break
        last_code = other
    ends.append(last_code)
    return sorted(set(ends))


# --- JavaScript ------------------------------------------------------------------------


def _condition_span(tokens: list[Token], keyword: int) -> tuple[int, int] | None:
    """Indexes of the `(` after `if`/`while` at `keyword` and of its `)` on the line."""
    if keyword + 1 >= len(tokens) or tokens[keyword + 1].text != "(":
        return None
    depth = 0
    for k in range(keyword + 1, len(tokens)):
        if tokens[k].text in OPENERS:
            depth += 1
        elif tokens[k].text in CLOSERS:
            depth -= 1
            if depth == 0:
                return keyword + 1, k
    return keyword + 1, len(tokens)


def _js_conditions(tokens: list[Token]) -> list[tuple[int, int]]:
    return [
        span
        for i, t in enumerate(tokens)
        if t.kind == "name" and t.text in ("if", "while")
        for span in [_condition_span(tokens, i)]
        if span is not None
    ]


def _js_condition_assign(g: Generator, line: int) -> None:
    """`if (n % 2 = 0)` -> `if (n % 2 === 0)` (`==` in a file that never uses `===`)."""
    tokens = g.tokens_on(line)
    strict = g.text.count("===") + g.text.count("!==") >= g.text.count("==") / 2
    for token in condition_assignments(tokens):
        _trusted(g, _cost(g, line), (token.start, token.end, "===" if strict else "=="))


def condition_assignments(tokens: list[Token]) -> list[Token]:
    """The `=` directly inside an `if (...)` or `while (...)` condition on a line
    (not inside a nested call or group, where `(m = f()) !== null` is an idiom)."""
    found = []
    contexts = _contexts(tokens)
    for first, last in _js_conditions(tokens):
        for k in range(first + 1, min(last, len(tokens))):
            token = tokens[k]
            if token.text == "=" and token.kind == "op" and contexts[k] == first:
                found.append(token)
    return found


def _js_word_operators(g: Generator, line: int) -> None:
    """Python's `and`, `or`, `not` in a JavaScript condition."""
    tokens = g.tokens_on(line)
    table = {"and": "&&", "or": "||", "not": "!"}
    for first, last in _js_conditions(tokens):
        spans = []
        for token in tokens[first + 1 : last]:
            if token.kind == "name" and token.text in table and g.counts.get(token.text) == 1:
                if token.text == "not":
                    spans.append((token.start, token.end + _blank_after(g, token.end), "!"))
                else:
                    spans.append((token.start, token.end, table[token.text]))
        if spans:
            _trusted(g, _cost(g, line), *spans)


def _blank_after(g: Generator, offset: int) -> int:
    n = 0
    while offset + n < len(g.text) and g.text[offset + n] in " \t":
        n += 1
    return n


def _js_bare_condition(g: Generator, line: int) -> None:
    """`if x > 0 {` -> `if (x > 0) {`: a condition written without its parentheses."""
    tokens = g.tokens_on(line)
    if tokens[-1].text != "{":
        return
    for i, token in enumerate(tokens[:-2]):
        if token.kind == "name" and token.text in ("if", "while") and tokens[i + 1].text != "(":
            if i and tokens[i - 1].text not in ("else", "}"):
                continue
            before_brace = tokens[-2].end
            _trusted(
                g,
                _cost(g, line),
                (tokens[i + 1].start, tokens[i + 1].start, "("),
                (before_brace, before_brace, ")"),
            )


def _js_elif(g: Generator, line: int) -> None:
    for token in g.tokens_on(line):
        if token.kind == "name" and token.text == "elif" and g.counts.get("elif") == 1:
            _trusted(g, _cost(g, line), (token.start, token.end, "else if"))
