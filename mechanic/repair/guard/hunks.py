"""What the meaning guard compares: token hunks between the broken text and a candidate,
the shared vocabulary (punctuation, operators, swaps) and the Refusal every rule returns."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from mechanic.detect.checkers.base import Finding
from mechanic.files import linediff
from mechanic.repair.rungs.deterministic.generator import JS_KEYWORDS
from mechanic.repair.rungs.deterministic.tokens import (
    Token,
)

LANGUAGES = ("python", "javascript")
# Characters a fix may add beyond what it removes: `pass`, a closing `"""`, a `)`.
ADDED_CHARS = 60
# The error's statement: a few code lines above the reported line (parsers report a
# fault where they notice it, at or after it) and one below.
LINES_BEFORE = 3
LINES_AFTER = 1
# Brackets, commas and colons may go further: a lost `)` or `}` belongs where the
# layout says, which for an error at the end of the file can be anywhere.
PUNCTUATION_LINES = 40
INDENT_LINES = 15
BASELINE_MAX_SPAN = 40

PUNCT = frozenset("()[]{},;:.") | {"...", "?.", "=>", "->"}
ARITH = frozenset({"+", "-", "*", "/", "//", "%", "**", "@", "<<", ">>", ">>>", "^", "~", "&", "|"})
# Operator rewrites a person makes to a line that does not parse: the text before,
# joined, and after (Python's lexer here reads `&&` as two `&`).
SWAPS = {
    "python": {
        ("=", "=="),
        ("===", "=="),
        ("==", "=="),
        ("<>", "!="),
        ("=<", "<="),
        ("=>", ">="),
        ("=!", "!="),
        ("!==", "!="),
        ("=", ":"),
        (":", "="),
    },
    "javascript": {
        ("=", "==="),
        ("=", "=="),
        ("<>", "!=="),
        ("=<", "<="),
        ("=!", "!=="),
        ("=", ":"),
        (":", "="),
    },
}
# Operators that Python spells as words.
WORD_OPS = {"!": "not", "&&": "and", "||": "or", "&": "and", "|": "or"}
# Python's words that JavaScript spells as operators (`if (a and b)` → `a && b`).
JS_WORD_OPS = {"and": "&&", "or": "||", "not": "!"}
# A JavaScript operator written in Python: Python's lexer reads `===` as `==` `=`,
# so the fix deletes one `=` right after what it keeps.
PY_LONG_OPS = ("==", "!=")
# The zero-token rung's keywords, and the words a JavaScript edit must not make up.
JS_NAMES = JS_KEYWORDS | {"get", "set", "undefined"}
PY_UNDEFINED = re.compile(r"name '(\w+)' is not defined")
JS_UNDEFINED = re.compile(r"(?:ReferenceError: )?([\w$]+) is not defined")
EOF = re.compile(r"end of input|EOF|was never closed|unterminated|Unterminated|unclosed", re.I)
INDENTED_BLOCK = re.compile(
    r"expected an indented block after '?(\w[\w ]*?)'? (?:statement )?on line (\d+)"
)


@dataclass(frozen=True)
class Refusal:
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"the meaning guard refuses it ({self.rule}): {self.detail}; the original is kept"


@dataclass
class Hunk:
    old: list[Token]
    new: list[Token]
    old_at: int  # offset in the broken text where the change starts
    new_at: int  # offset in the candidate


# --- the diff -------------------------------------------------------------------------


def key(token: Token) -> str:
    kind = "str" if token.kind == "ustr" else token.kind
    return f"{kind}\0{token.text}"


def _same(a: Token, b: Token) -> bool:
    """key(a) == key(b), without making the keys."""
    return a.text == b.text and (a.kind == b.kind or {a.kind, b.kind} == {"str", "ustr"})


def diff_hunks(old: list[Token], new: list[Token]) -> list[Hunk]:
    """The token-level differences, common prefix and suffix skipped first so a large
    file with a small change costs little."""
    # Keys are made for the differing middle only: building one per token of a
    # 120,000-token file, twice, cost more than the diff.
    shortest = min(len(old), len(new))
    lo = 0
    while lo < shortest and _same(old[lo], new[lo]):
        lo += 1
    hi = 0
    while hi < shortest - lo and _same(old[-1 - hi], new[-1 - hi]):
        hi += 1
    a = [key(t) for t in old[lo : len(old) - hi]]
    b = [key(t) for t in new[lo : len(new) - hi]]
    matcher = linediff.matcher(a, b)
    hunks = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        i1, i2, j1, j2 = i1 + lo, i2 + lo, j1 + lo, j2 + lo
        old_at = old[i1].start if i1 < len(old) else (old[-1].end if old else 0)
        new_at = new[j1].start if j1 < len(new) else (new[-1].end if new else 0)
        hunks.append(Hunk(old[i1:i2], new[j1:j2], old_at, new_at))
    return hunks


def code_tokens(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t.kind != "comment"]


def ops(tokens: list[Token]) -> list[str]:
    return [t.text for t in code_tokens(tokens) if t.kind == "op" and t.text not in PUNCT]


def near(a: str, b: str) -> bool:
    """`a` is `b` misspelt: another case, or one letter changed, added, dropped or
    two swapped (a keyword typed wrong, the fix the zero-token rung makes)."""
    if a.lower() == b.lower():
        return True
    if abs(len(a) - len(b)) > 1 or min(len(a), len(b)) < 2:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(short == long[:i] + long[i + 1 :] for i in range(len(long)))


QUOTES = frozenset("'\"`")


def quote_only(hunk: Hunk) -> bool:
    """The hunk only adds or moves a quote: what was text or code on either side of it
    is the same characters (a dropped quote put back turns the rest of a line back
    into code, which is not new code)."""
    old = Counter("".join("".join(t.text.split()) for t in hunk.old))
    new = Counter("".join("".join(t.text.split()) for t in hunk.new))
    changed = (new - old) + (old - new)
    closes = any(t.kind == "ustr" for t in hunk.old)  # code quoted away is not this
    return closes and bool(changed) and set(changed) <= QUOTES


def pieces(tokens: list[Token], *, strings: bool = False) -> list[str]:
    """The letters and digits of names, numbers and strings (only strings, with
    `strings`), in order, in runs: the same whether a quote or a bracket falls between
    them or not."""
    kinds = ("str", "ustr") if strings else ("name", "num", "str", "ustr", "regex")
    pieces: list[str] = []
    for token in code_tokens(tokens):
        if token.kind in kinds:
            pieces += re.findall(r"[^\W_]+", token.text)
    return pieces


def undefined_in(finding: Finding) -> str | None:
    """The name a static finding or a runtime NameError/ReferenceError reports
    undefined: replacing that one name (a typo'd call) is the fix the error calls for."""
    if finding.kind == "static":
        return name_in(finding.message)
    if finding.kind == "runtime":
        for pattern in (PY_UNDEFINED, JS_UNDEFINED):
            if match := pattern.search(finding.message):
                return match.group(1)
    return None


def name_in(message: str) -> str | None:
    found = re.search(r"'([^']+)'", message)
    return found.group(1) if found else None


def hunk_words(tokens: list[Token]) -> Counter[str]:
    words: Counter[str] = Counter()
    for token in code_tokens(tokens):
        if token.kind in ("name", "num"):
            words[token.text] += 1
        elif token.kind in ("str", "ustr", "regex"):
            words.update(re.findall(r"[^\W_]+|_+", token.text))
    return words
