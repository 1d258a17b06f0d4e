"""The zero-token rung's candidate edits: small token edits near a syntax error, ranked.

`Generator` lists them (what the error message suggests first, then by size and distance
from the error); the idioms of human.py and the plausibility rules of plausible.py work
on it. Nothing here parses or judges a candidate: search.py does.
"""

from __future__ import annotations

import bisect
import builtins
import keyword
import time
from dataclasses import dataclass

from mechanic.detect.checkers.base import Finding
from mechanic.repair.rungs.deterministic.tokens import (
    CLOSERS,
    OPENERS,
    OutOfTime,
    Token,
    line_starts,
    tokenize,
)

LANGUAGES = ("python", "javascript")
_TYPE_NAMES = frozenset(
    {"str", "int", "float", "bool", "bytes", "list", "dict", "set", "tuple", "object", "complex"}
)
_BUILTINS = frozenset(dir(builtins)) | {"console", "require", "module", "exports", "Object"}

# An edit: (start, end, replacement) spans of the original text, not overlapping.
Edit = tuple[tuple[int, int, str], ...]

PY_KEYWORDS = frozenset(keyword.kwlist) | {"match", "case"}
JS_KEYWORDS = frozenset(
    {
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "export",
        "extends",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "let",
        "new",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "async",
        "await",
        "static",
        "of",
        "null",
        "true",
        "false",
    }
)
# Misspelt keywords shorter than this are too easily a real name (`fi`, `ni`).
MIN_KEYWORD = 3
WINDOW_BEFORE = 3  # lines before the error line searched for general edits
WINDOW_AFTER = 1
BRACKET_LINES = 40  # how far a missing closer may be from its opener
JS_BATCH = 256
PAIR_FROM = 14  # pairs are made of the best this many single edits
PAIR_AFTER = 1.5  # pairs are tried after the single edits costing at most this
NEAR_TOKENS = 60  # tokens either side of the error considered on one long line
LONG_LINE = 300  # characters either side of a quote judged for a dropped-quote fix
NEAREST_BRACKETS = 24  # unmatched brackets considered, the nearest to the error first
TICK = 512  # loop steps between two looks at the clock
SECOND_FAULT_FROM = 4  # the likeliest edits tried as the first of two fixes


@dataclass(order=True, frozen=True)
class Ranked:
    cost: float
    order: int  # ties keep generation order, which is itself meaningful
    edit: Edit


LEX_SHARE = 0.5  # of the budget, the most the lexer may need (tokens.tokenize's share)


class Generator:
    """Ranked candidate edits for one file and one error."""

    def __init__(self, text: str, finding: Finding, deadline: float = float("inf")) -> None:
        self.deadline = deadline
        self._steps = 0
        self.text = text
        self.language = finding.language
        self.python = finding.language == "python"
        self.message = finding.message
        self.starts = line_starts(text)
        self.lines = len(self.starts)
        self.line = min(max(finding.line or self.lines, 1), self.lines)
        column = max((finding.column or 1) - 1, 0)
        line_end = self._line_end(self.line)
        self.offset = min(self.starts[self.line - 1] + column, line_end)
        deadline_or_none = None if deadline == float("inf") else deadline
        # The tokens are a fraction of the work: indexing them, ranking candidates and
        # parsing one (a compile of the whole file) follow. A text whose lexing alone
        # would take half the budget cannot be fixed in it: given up at once.
        every = tokenize(text, finding.language, deadline=deadline_or_none, share=LEX_SHARE)
        self.tokens = [t for t in every if t.kind != "comment"]
        self.keywords = PY_KEYWORDS if self.python else JS_KEYWORDS
        self._token_starts = [t.start for t in self.tokens]
        self.counts: dict[str, int] = {}
        self._by_line: dict[int, list[Token]] = {}
        for token in self.tokens:
            self.tick()
            if token.kind == "name":
                self.counts[token.text] = self.counts.get(token.text, 0) + 1
            self._by_line.setdefault(token.line, []).append(token)
        self._indents: dict[int, int] = {}
        self._collect: list[tuple[float, Edit]] | None = None
        self._found: dict[Edit, float] = {}
        self.trusted: set[Edit] = set()  # the idioms of human.py
        self.refuse: str | None = None  # set when the fault is ambiguous: no fix at all
        self._unit: str | None = None
        self._order: dict[Edit, int] = {}

    # -- helpers -----------------------------------------------------------------------

    def tick(self) -> None:
        """Called inside every loop whose length depends on the file: the budget is
        checked there, not between the loops (100,000 `(` once took minutes)."""
        self._steps += 1
        if self._steps % TICK == 0 and time.monotonic() > self.deadline:
            raise OutOfTime

    def _line_end(self, line: int) -> int:
        """Offset of the newline ending `line` (or the end of the text)."""
        if line >= self.lines:
            return len(self.text)
        return self.starts[line] - 1

    def line_end(self, line: int) -> int:
        return self._line_end(line)

    def indent_of(self, line: int) -> int:
        return self._indent_of(line)

    def indent_text(self, line: int) -> str:
        start = self.starts[line - 1]
        return self.text[start : start + self._indent_of(line)]

    @property
    def indent_unit(self) -> str:
        if self._unit is None:
            self._unit = self._indent_unit()
        return self._unit

    def line_of(self, offset: int) -> int:
        return self._line_of(offset)

    def _line_of(self, offset: int) -> int:
        lo, hi = 0, self.lines - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def _distance(self, offset: int) -> float:
        """Line distance from the error, plus a little for the column distance."""
        line = self._line_of(offset)
        lines = abs(line - self.line)
        columns = abs(offset - self.offset) if line == self.line else 0
        return lines + min(columns, 200) / 400

    def add(self, cost: float, *edit: tuple[int, int, str]) -> None:
        self.tick()
        if self._collect is not None:
            self._collect.append((cost, tuple(sorted(edit))))
            return
        key = tuple(sorted(edit))
        if self.text[key[0][0] : key[0][1]] == key[0][2] and len(key) == 1:
            return  # a no-op
        if key not in self._found or cost < self._found[key]:
            self._found[key] = cost
            self._order.setdefault(key, len(self._order))

    def ranked(self) -> list[Edit]:
        """Single edits by cost; pairs of the likeliest single edits (two lost tokens,
        `if f(x` missing both `)` and `:`) after the likely singles, before the rest."""
        items = sorted(Ranked(cost, self._order[edit], edit) for edit, cost in self._found.items())
        singles = [item.edit for item in items]
        likely = [item.edit for item in items if item.cost <= PAIR_AFTER]
        unlikely = singles[len(likely) :]
        top = [e for e in singles[:PAIR_FROM] if len(e) == 1]
        pairs = []
        for i, first in enumerate(top):
            for second in top[i + 1 :]:
                (a, b, x), (c, d, y) = first[0], second[0]
                if b < c or d < a:  # apart, so the two edits cannot interfere
                    pairs.append(tuple(sorted(first + second)))
                elif a == b == c == d:  # two insertions at one place: both orders
                    pairs.append(((a, a, x + y),))
                    pairs.append(((a, a, y + x),))
        return likely + pairs + unlikely

    def hinted(self, *words: str) -> bool:
        message = self.message.lower()
        return any(word in message for word in words)

    # -- generation --------------------------------------------------------------------

    def generate(self) -> list[Edit]:
        self._brackets()
        self._quotes()
        self._keywords()
        if self.python:
            self._indentation()
            self._colons()
        self._near_error()
        return self.ranked()

    def _window_tokens(self, before: int, after: int) -> list[tuple[int, Token]]:
        """Tokens on the lines around the error, and (for minified code, whose one line
        is the whole file) no more than NEAR_TOKENS either side of it."""
        low, high = self.line - before, self.line + after
        at = bisect.bisect_left(self._token_starts, self.offset)
        first, last = max(0, at - NEAR_TOKENS), min(len(self.tokens), at + NEAR_TOKENS)
        return [
            (i, t) for i, t in enumerate(self.tokens[first:last], first) if low <= t.line <= high
        ]

    def _brackets(self) -> None:
        """Edits the bracket structure points at: an extra closer, an unclosed opener."""
        stack: list[int] = []  # token indexes of open brackets
        open_count = {opener: 0 for opener in OPENERS}  # of each kind on the stack
        unclosed: list[tuple[int, int | None]] = []  # (opener, index of what exposed it)
        extra: list[int] = []
        for i, token in enumerate(self.tokens):
            self.tick()
            if token.kind != "op":
                continue
            if token.text in OPENERS:
                stack.append(i)
                open_count[token.text] += 1
            elif token.text in CLOSERS:
                want = CLOSERS[token.text]
                if open_count[want]:
                    while self.tokens[stack[-1]].text != want:
                        popped = stack.pop()
                        open_count[self.tokens[popped].text] -= 1
                        unclosed.append((popped, i))
                    stack.pop()
                    open_count[want] -= 1
                else:
                    extra.append(i)
        unclosed.extend((j, None) for j in stack)
        # A file can hold thousands of unmatched brackets; the ones nearest the error
        # are where the fault is.
        by_distance = sorted(unclosed, key=lambda item: self._distance(self.tokens[item[0]].start))
        unclosed = sorted(by_distance[:NEAREST_BRACKETS])
        extra = sorted(extra, key=lambda i: self._distance(self.tokens[i].start))[:NEAREST_BRACKETS]
        hint = 0.0 if self.hinted("unmatched", "unexpected token", "does not match") else 0.3
        for i in extra:
            token = self.tokens[i]
            doubled = token.start > 0 and self.text[token.start - 1] == token.text
            cost = hint + (0.0 if doubled else 0.35) + self._distance(token.start) * 0.5
            self.add(cost, (token.start, token.end, ""))
            self._open(i, hint + (0.3 if doubled else 0.0))
        hint = 0.0 if self.hinted("never closed", "missing )", "end of input", "expected") else 0.3
        for opener, exposed in unclosed:
            self._close(opener, exposed, hint)
        if unclosed and not self.python:  # Python closes brackets anywhere on a line
            self._layout_closers(min(opener for opener, _ in unclosed), hint)

    def _layout_closers(self, first: int, base: float) -> None:
        """The structure blames the outermost unclosed bracket, but the lost closer is
        usually an inner block's: the block whose indentation comes back to its own
        level on a line that does not start with its closer."""
        seen = 0
        for k in range(first, len(self.tokens)):
            self.tick()
            token = self.tokens[k]
            if token.text not in OPENERS or token.kind != "op":
                continue
            following = self.tokens[k + 1] if k + 1 < len(self.tokens) else None
            if following is not None and following.line == token.line:
                continue  # not a block opener
            seen += 1
            if seen > 200:
                break
            closer, own = OPENERS[token.text], self._indent_of(token.line)
            last_code_line = token.line
            for j in range(k + 1, len(self.tokens)):
                self.tick()
                here = self.tokens[j]
                if here.line == self.tokens[j - 1].line:
                    continue
                if self._indent_of(here.line) <= own:
                    if here.text != closer:
                        spots = self._blank_lines_between(last_code_line, here.line, base - 0.45)
                        spots.append((base - 0.4, here.start))
                        for cost, where in spots:
                            self.add(cost, (where, where, closer))
                    elif self._indent_of(here.line) < own:
                        # The closer found is an outer block's: this block's own line
                        # `}` went missing just above it.
                        line_start = self.starts[here.line - 1]
                        lost = self.indent_text(token.line) + closer + "\n"
                        self.add(base - 0.45, (line_start, line_start, lost))
                    break
                last_code_line = here.line

    def _open(self, closer: int, base: float) -> None:
        """Insert the opener an unmatched closer lacks, earlier on its line: after a
        name (a call or a subscript), even inside a name the lost bracket merged."""
        token = self.tokens[closer]
        opener = CLOSERS[token.text]
        line_start = self.starts[token.line - 1]
        near = self._distance(token.start) * 0.5
        for k in range(closer - 1, max(-1, closer - 1 - NEAR_TOKENS), -1):
            here = self.tokens[k]
            if here.end <= line_start:
                break
            steps = near + (closer - k) * 0.02
            if here.kind == "name" and here.text not in self.keywords:
                self.add(base + steps, (here.end, here.end, opener))  # f x) -> f(x)
            self.add(base + 0.3 + steps, (here.start, here.start, opener))
            if here.kind == "name" and len(here.text) > 1:
                for cut in range(1, len(here.text)):
                    head, tail = here.text[:cut], here.text[cut:]
                    known = self._known(head) + (self._known(tail) or tail in "bBrRfFuU")
                    if known:
                        where = here.start + cut
                        cost = base + steps + (-0.05 if known == 2 else 0.1)
                        if self.counts.get(here.text, 0) == 1:
                            # A name used nowhere else, made of names used elsewhere.
                            cost = base + near - (0.2 if known == 2 else 0.1) + 0.005 * (closer - k)
                        self.add(cost, (where, where, opener))

    def _known(self, name: str) -> bool:
        """A name the file uses elsewhere (or a builtin), so a merged token can be split."""
        return self.counts.get(name, 0) > 0 or name in _BUILTINS

    def _close(self, opener: int, exposed: int | None, base: float) -> None:
        """Insert the closer an opener lacks. Where the code's layout says: at the end of
        the opener's line when more follows it there, else where the indentation comes
        back to the opener's level (a block's lost `}`); then at any token end up to
        where the structure shows it must have closed."""
        token = self.tokens[opener]
        closer = OPENERS[token.text]
        stop = len(self.tokens) if exposed is None else exposed + 1
        stop = min(stop, opener + 1 + 8 * NEAR_TOKENS)
        limit_line = token.line + BRACKET_LINES
        block = opener + 1 >= len(self.tokens) or self.tokens[opener + 1].line != token.line
        own_indent = self._indent_of(token.line)
        spots: list[tuple[float, int]] = []
        continues = False
        if not block:
            line_tokens = self.tokens_on(token.line)
            continues = line_tokens[-1].text in (",", "(", "[", "{", "\\")
            spots.append((base - (0.1 if continues else 0.3), self._end_spot(token.line, closer)))
        last_code_line = token.line
        for k in range(opener + 1, stop):
            self.tick()
            here = self.tokens[k]
            if here.line > limit_line:
                break
            if here.line != self.tokens[k - 1].line:
                if self._indent_of(here.line) <= own_indent and here.line > token.line:
                    # Back at the opener's level: the construct ended just before.
                    if here.text != closer:
                        spots.append((base - 0.3, here.start))
                    # A closer alone on its line leaves that line blank when lost; but a
                    # bracket opened with its content on the same line (`sum(items`)
                    # was closed on that line, and a blank line after it is a separator.
                    if block or continues:
                        spots.extend(
                            self._blank_lines_between(last_code_line, here.line, base - 0.35)
                        )
                    spots.append((base - 0.2, self._end_spot(last_code_line, closer)))
                    break
                last_code_line = here.line
        generic = []
        for k in range(opener + 1, stop):
            after = self.tokens[k - 1]
            if after.line > limit_line:
                break
            here = self.tokens[k]
            cost = base + 0.3 + 0.1 * abs(after.line - token.line)
            if block and after.line == token.line:
                cost += 1.0
            if here.line != after.line:
                cost -= 0.1  # at a line's end
            generic.append((cost, after.end))
        if exposed is None:
            generic.append((base + 1.0, len(self.text.rstrip())))
        for rank, (cost, where) in enumerate(sorted(spots) + sorted(generic)):
            self.add(cost + rank * 0.001, (where, where, closer))
        self.add(base + 1.5 + self._distance(token.start), (token.start, token.end, ""))

    def _end_spot(self, line: int, closer: str) -> int:
        """Where a closer at the end of `line` goes: after its last token, but before a
        trailing `,` `;` `:` (or a `{` when closing a parenthesis)."""
        tokens = self.tokens_on(line)
        if not tokens:
            return self._line_end(line)
        last = tokens[-1]
        if last.text in (",", ";", ":") or (last.text == "{" and closer == ")"):
            # Right after the token before it: `f(x {` -> `f(x) {`, not `f(x ){`.
            return tokens[-2].end if len(tokens) > 1 else last.start
        return last.end

    def tokens_on(self, line: int) -> list[Token]:
        return self._by_line.get(line, [])

    def _blank_lines_between(
        self, first: int, last: int, cost: float, *, indent: int | None = None
    ) -> list[tuple[float, int]]:
        """End of whitespace-only lines between two lines: where a lone `}` was lost
        (with `indent`, only lines holding exactly that much whitespace)."""
        out = []
        for line in range(first + 1, last):
            self.tick()
            start, end = self.starts[line - 1], self._line_end(line)
            segment = self.text[start:end]
            if segment.strip():
                continue
            if indent is None or (len(segment) == indent and (indent > 0 or line == last - 1)):
                out.append((cost, end))
        return out

    def _indent_of(self, line: int) -> int:
        known = self._indents.get(line)
        if known is None:
            start, end = self.starts[line - 1], self._line_end(line)
            at = start
            while at < end and self.text[at] in " \t":
                at += 1
            known = self._indents[line] = at - start
        return known

    def _quotes(self) -> None:
        """A dropped quote: close or open the unterminated string, or drop the stray one.

        Where the lost quote was is ambiguous (`"B, "C", 1` parses), so every candidate
        is also judged by how natural its line reads afterwards: no string left open,
        no two values side by side, no string that starts or ends with a comma."""
        hint = 0.0 if self.hinted("unterminated", "invalid or unexpected", "string") else 0.3
        for i, token in self._window_tokens(WINDOW_BEFORE + 2, WINDOW_AFTER + 1):
            if token.kind != "ustr":
                continue
            quote_at = token.start + len(token.text) - len(token.text.lstrip("rRbBuUfF"))
            quote = self.text[quote_at]
            if self.text.startswith(quote * 3, quote_at):
                continue
            base = hint + 0.3 * abs(token.line - self.line)
            line_start = max(self.starts[token.line - 1], quote_at - LONG_LINE)
            line_end = min(self._line_end(token.line), quote_at + LONG_LINE)
            self._collect = []
            try:
                self._close_string(token, quote_at, quote, base)
                self._open_string(i, line_start, quote_at, quote, base + 0.1)
                self.add(base + 0.8, (quote_at, quote_at + 1, ""))
                for where in range(line_start, line_end + 1):
                    self.add(base + 0.5 + 0.001 * abs(where - quote_at), (where, where, quote))
                collected = self._collect
            finally:
                self._collect = None
            line = self.text[line_start:line_end]
            plain = self._unnatural(line)
            for cost, edit in collected:
                if not all(line_start <= a and b <= line_end for a, b, _ in edit):
                    continue
                edited = line
                for start, end, new in sorted(edit, reverse=True):
                    edited = edited[: start - line_start] + new + edited[end - line_start :]
                self.add(cost + 0.35 * (self._unnatural(edited) - plain), *edit)

    def _unnatural(self, line: str) -> int:
        """How many things in `line` code rarely has: an open string, two values in a
        row, a string beginning or ending with a comma."""
        score = 0
        previous: Token | None = None
        for token in tokenize(line, self.language):
            if token.kind == "ustr":
                score += 3
            if token.kind == "str":
                body = token.text.lstrip("rRbBuUfF")[1:-1]
                if body.startswith(",") or body.rstrip().endswith(",") or body.startswith(" ,"):
                    score += 1
            if previous is not None and self._value(previous) and self._value(token):
                score += 1
            if token.kind != "comment":
                previous = token
        return score

    def _value(self, token: Token) -> bool:
        if token.kind in ("str", "ustr", "num"):
            return True
        return token.kind == "name" and token.text not in self.keywords

    def _close_string(self, token: Token, quote_at: int, quote: str, base: float) -> None:
        body = self.text[quote_at + 1 : min(token.end, quote_at + 1 + LONG_LINE)]
        # The string most likely ended before the line's trailing punctuation.
        tail = len(body) - len(body.rstrip(" \t\r)]};,:"))
        natural = quote_at + 1 + len(body) - tail
        spots = []
        for k in range(1, len(body) + 2):
            where = quote_at + k
            prev = self.text[where - 1]
            nxt = self.text[where] if where < token.end else "\n"
            cost = base + 0.4 + 0.002 * abs(where - natural)
            if where == natural:
                cost = base
            elif nxt in " \t\n)]};,:+%" and prev not in " \t":
                cost = base + 0.2 + 0.002 * abs(where - natural)
            spots.append((cost, where))
        for cost, where in spots:
            self.add(cost, (where, where, quote))

    def _open_string(
        self, index: int, line_start: int, quote_at: int, quote: str, base: float
    ) -> None:
        for k in range(index - 1, max(-1, index - 1 - NEAR_TOKENS), -1):
            token = self.tokens[k]
            if token.start < line_start:
                break
            before = self.text[token.start - 1] if token.start else "\n"
            cost = base + 0.05 * (index - k)
            if before in " \t([{=:":
                cost -= 0.05
            elif before == ",":
                cost += 0.05
            self.add(cost, (token.start, token.start, quote))
            prefix = len(token.text) - len(token.text.lstrip("fFrRbBuU"))
            if self.python and token.kind == "name" and 0 < prefix <= 2 < len(token.text):
                # f"{x}" that lost its opening quote reads as a name: fSee...
                body = self.text[token.start : self.tokens[index].start]
                favoured = -0.08 if "{" in body and "f" in token.text[:prefix].lower() else 0.02
                where = token.start + prefix
                self.add(cost + favoured, (where, where, quote))

    def _keywords(self) -> None:
        """A keyword with one letter changed, added, dropped, or two letters swapped."""
        hint = 0.1 if self.hinted("invalid syntax", "unexpected identifier", "expected") else 0.4
        for _, token in self._window_tokens(WINDOW_BEFORE, WINDOW_AFTER):
            if token.kind != "name" or token.text in self.keywords:
                continue
            unique = self.counts.get(token.text, 0) == 1 and not self._known_builtin(token.text)
            for word in _near_keywords(token.text, self.keywords, short=unique):
                cost = hint + (0.0 if unique else 0.6) + self._distance(token.start) * 0.3
                self.add(cost - (0.1 if unique else 0.0), (token.start, token.end, word))

    def builtin(self, name: str) -> bool:
        return name in _BUILTINS

    def _known_builtin(self, name: str) -> bool:
        return name in _BUILTINS

    def _indentation(self) -> None:
        """Python: a line that lost (or gained) a level of indentation."""
        hinted = self.hinted("indent")
        base = 0.0 if hinted else 1.2
        unit = self.indent_unit
        if self.hinted("unindent does not match"):
            self._misplaced_header(unit)
        lines = range(max(1, self.line - WINDOW_BEFORE), min(self.lines, self.line + 1) + 1)
        for line in lines:
            start, end = self.starts[line - 1], self._line_end(line)
            segment = self.text[start:end]
            if not segment.strip() or segment.lstrip().startswith("#"):
                continue
            own = segment[: len(segment) - len(segment.lstrip(" \t"))]
            previous = self._neighbour_indent(line, -1)
            following = self._neighbour_indent(line, +1)
            distance = abs(line - self.line)
            choices = [(0.0, own + unit)]  # the level it most likely lost
            if previous is not None:
                opens_block = self._ends_with_colon(line, -1)
                choices.append((0.05 if opens_block else 0.4, previous + unit))
                choices.append((0.1, previous))
            if following is not None:
                choices.append((0.15, following))
            if len(own) >= len(unit):
                choices.append((0.6, own[: len(own) - len(unit)]))
            # "unexpected indent" at a line usually means the line above lost its indent.
            if self.hinted("unexpected indent") and line == self._previous_code_line(self.line):
                base_here = base - 0.6
            elif self.hinted("unexpected indent") and line == self.line:
                base_here = base + 0.3
            else:
                base_here = base
            for extra, indent in choices:
                if indent != own:
                    self.add(base_here + extra + distance * 0.5, (start, start + len(own), indent))

    def _misplaced_header(self, unit: str) -> None:
        """ "unindent does not match": a header that lost its indentation earlier opened
        a block at the wrong level; it is the nearest line above indented less than
        the error line."""
        start, end = self.starts[self.line - 1], self._line_end(self.line)
        segment = self.text[start:end]
        want = segment[: len(segment) - len(segment.lstrip(" \t"))]
        for line in range(self.line - 1, max(0, self.line - 200), -1):
            a, b = self.starts[line - 1], self._line_end(line)
            text = self.text[a:b]
            if not text.strip() or text.lstrip().startswith("#"):
                continue
            own = text[: len(text) - len(text.lstrip(" \t"))]
            if len(own) < len(want):
                if text.split("#", 1)[0].rstrip().endswith(":"):
                    self.add(0.1, (a, a + len(own), want))
                return

    def _previous_code_line(self, line: int) -> int:
        other = line - 1
        while other >= 1:
            start, end = self.starts[other - 1], self._line_end(other)
            segment = self.text[start:end].strip()
            if segment and not segment.startswith("#"):
                return other
            other -= 1
        return 0

    def _indent_unit(self) -> str:
        counts: dict[str, int] = {}
        for start in self.starts[:2000]:
            end = self.text.find("\n", start)
            segment = self.text[start : end if end >= 0 else len(self.text)]
            stripped = segment.lstrip(" \t")
            if stripped and len(stripped) < len(segment):
                indent = segment[: len(segment) - len(stripped)]
                if indent.startswith("\t"):
                    counts["\t"] = counts.get("\t", 0) + 1
                elif len(indent) in (2, 4, 8) or len(indent) % 4 == 0:
                    unit = " " * (4 if len(indent) % 4 == 0 else 2)
                    counts[unit] = counts.get(unit, 0) + 1
        return max(counts, key=lambda u: counts[u]) if counts else "    "

    def _neighbour_indent(self, line: int, step: int) -> str | None:
        other = line + step
        while 1 <= other <= self.lines:
            start, end = self.starts[other - 1], self._line_end(other)
            segment = self.text[start:end]
            if segment.strip() and not segment.lstrip().startswith("#"):
                return segment[: len(segment) - len(segment.lstrip(" \t"))]
            other += step
        return None

    def _ends_with_colon(self, line: int, step: int) -> bool:
        other = line + step
        while 1 <= other <= self.lines:
            start, end = self.starts[other - 1], self._line_end(other)
            code = self.text[start:end].split("#", 1)[0].rstrip()
            if code:
                return code.endswith(":")
            other += step
        return False

    def _colons(self) -> None:
        """Python: a compound statement's header without its colon."""
        hint = 0.0 if self.hinted("expected ':'") else 0.3
        headers: tuple[str, ...] = ("if", "elif", "else", "for", "while", "def", "class", "try")
        headers += ("except",)
        headers += ("finally", "with", "async", "match", "case", "lambda")
        for line in range(max(1, self.line - WINDOW_BEFORE), min(self.lines, self.line) + 1):
            start, end = self.starts[line - 1], self._line_end(line)
            segment = self.text[start:end]
            words = segment.split(None, 1)
            if not words or words[0].rstrip(":(") not in headers:
                continue
            code = segment.split("#", 1)[0].rstrip() if "#" in segment else segment.rstrip()
            if code.endswith((":", ",", "(", "[", "{", "\\")):
                continue
            where = start + len(code)
            self.add(hint + 0.5 * abs(line - self.line), (where, where, ":"))

    def _near_error(self) -> None:
        """One token inserted, deleted or replaced anywhere close to the error."""
        inserts = [",", ":", ")", "]", "}", "(", "[", "{"] + ([] if self.python else [";"])
        comma = 0.0 if self.hinted("comma", "unexpected string", "unexpected number") else 0.2
        semicolon = 0.3 if self.hinted("unexpected identifier", "unexpected token") else 0.6
        colon = 0.9 if self.python else 0.3
        costs = {":": colon, ",": comma, ";": semicolon}
        window = self._window_tokens(WINDOW_BEFORE, WINDOW_AFTER)
        for i, token in window:
            distance = self._distance(token.start)
            boundary = self.tokens[i - 1].end if i else token.start
            annotation = (
                self.python
                and i > 0
                and self.tokens[i - 1].kind == "name"
                and token.kind == "name"
                and (token.text in _TYPE_NAMES or token.text[:1].isupper())
            )
            for mark in inserts:
                base = 1.0 + costs.get(mark, 0.8) + distance
                if annotation and mark == ":":
                    base = 1.0 + comma - 0.05 + distance  # `name Type`: an annotation
                if mark in OPENERS:
                    self.add(base, (token.start, token.start, mark))
                else:
                    self.add(base, (boundary, boundary, mark))
                    self.add(base + 0.05, (token.start, token.start, mark))
                self.add(base + 0.1, (token.end, token.end, mark))
            if token.kind == "op":
                self.add(1.3 + distance, (token.start, token.end, ""))
                if len(token.text) == 1:
                    for mark in inserts:
                        if mark != token.text:
                            self.add(1.6 + distance, (token.start, token.end, mark))


def _near_keywords(word: str, keywords: frozenset[str], *, short: bool = False) -> list[str]:
    """Keywords one transposition, substitution, insertion or deletion from `word`
    (two-letter keywords only when `short`: `fi` is a name as often as a typo)."""
    if len(word) < 2 or not word.isascii():
        return []
    found = []
    for candidate in sorted(keywords):
        if len(candidate) < (2 if short else MIN_KEYWORD) or abs(len(candidate) - len(word)) > 1:
            continue
        if _one_edit(word, candidate):
            found.append(candidate)
    return found


def _one_edit(a: str, b: str) -> bool:
    if a == b:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and (a[diffs[1]] == b[diffs[0]])
        )
    if len(a) > len(b):
        a, b = b, a
    return any(a == b[:i] + b[i + 1 :] for i in range(len(b)))
