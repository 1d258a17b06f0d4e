"""The meaning guard: a fix changes only what is broken, and means what the author meant.

Every rung's candidate (zero-token, memory, block, whole) passes `refusal` before the
transaction; a person's `mechanic restore` does not. A syntax fix adds, moves or
changes punctuation and a few operators (`=` for `==`, `not` for `!`) at the error.
A candidate that parses but does more (new code, lost words, other operators, a new
tuple, a name that resolves nowhere, text nobody needed) means something the author
did not write, and hides the fault from every check after it: it is refused, and the
reason names the rule. The rules (`RULES`):

- size: the file would be larger than max_file_kb.
- export: a top-level def/class, `__all__` entry, `module.exports`/`exports.X`/`export`
  name of the broken text is gone (dropped or renamed).
- added-code: new names, keywords or literals (an import, a call, a statement, a
  definition). Exceptions the error calls for: `pass` in an empty block, and an
  import/require of exactly the name a NameError/ReferenceError reports undefined.
- deleted-code: a keyword, name or operand the author wrote is gone.
- renamed: a name replaced by another (a misspelt keyword corrected is not a rename).
- region: a change outside the faulty region (the error's statement, the lines the
  last good version shows as changed). A whole-file answer is judged by its diff.
- condition: `:=` where the author wrote `=`; a test inverted (`!`/`not` dropped,
  `<` for `>`).
- operator: an operator dropped, added or changed other than the syntax fixes.
- tuple: a call, condition, return or statement turned into a tuple, a comma
  expression, an annotation (`print: total`) or a label that was not there.
- call: a closing bracket placed so that what followed the call's argument (`.format`,
  `(...)`, `[...]`) now applies to the call's result; a pair of brackets removed.
- indentation: an empty block "filled" by indenting the statement after it.
- undefined-name: a name undefined in the file as it will be (pyflakes; acorn's scope
  pass for JavaScript), judged against the last good version, else on changed lines.
- syntax-warning: Python warns about the changed code (`10(10)`: int is not callable).
- asi: JavaScript that only parses because a semicolon is inserted automatically
  where the edit made the statement end.
- bloat: more than ADDED_CHARS characters the broken text did not need (a comment
  essay, a junk line).

Everything here is a pure function of the texts, the finding and the baseline (plus
node's parse, through the JavaScript checker, for comma expressions and ASI).
"""

from __future__ import annotations

import ast
import bisect
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mechanic.detect import static
from mechanic.detect.checkers.base import Checker, Finding
from mechanic.errors import CheckerUnavailable
from mechanic.files import linediff
from mechanic.repair.baseline import Baseline, changed_region
from mechanic.repair.rungs.deterministic.search import JS_KEYWORDS, PY_KEYWORDS
from mechanic.repair.rungs.deterministic.tokens import (
    CLOSERS,
    OPENERS,
    Token,
    line_starts,
    tokenize,
)

RULES = (
    "size",
    "export",
    "added-code",
    "deleted-code",
    "renamed",
    "region",
    "condition",
    "operator",
    "tuple",
    "call",
    "indentation",
    "undefined-name",
    "syntax-warning",
    "asi",
    "bloat",
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

_PUNCT = frozenset("()[]{},;:.") | {"...", "?.", "=>", "->"}
_ARITH = frozenset(
    {"+", "-", "*", "/", "//", "%", "**", "@", "<<", ">>", ">>>", "^", "~", "&", "|"}
)
# Operator rewrites a person makes to a line that does not parse: the text before,
# joined, and after (Python's lexer here reads `&&` as two `&`).
_SWAPS = {
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
_WORD_OPS = {"!": "not", "&&": "and", "||": "or", "&": "and", "|": "or"}
# Python's words that JavaScript spells as operators (`if (a and b)` → `a && b`).
_JS_WORD_OPS = {"and": "&&", "or": "||", "not": "!"}
# A JavaScript operator written in Python: Python's lexer reads `===` as `==` `=`,
# so the fix deletes one `=` right after what it keeps.
_PY_LONG_OPS = ("==", "!=")
# The zero-token rung's keywords, and the words a JavaScript edit must not make up.
_JS_KEYWORDS = JS_KEYWORDS | {"get", "set", "undefined"}
_PY_UNDEFINED = re.compile(r"name '(\w+)' is not defined")
_JS_UNDEFINED = re.compile(r"(?:ReferenceError: )?([\w$]+) is not defined")
_EOF = re.compile(r"end of input|EOF|was never closed|unterminated|Unterminated|unclosed", re.I)
_INDENTED_BLOCK = re.compile(
    r"expected an indented block after '?(\w[\w ]*?)'? (?:statement )?on line (\d+)"
)


@dataclass(frozen=True)
class Refusal:
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"the meaning guard refuses it ({self.rule}): {self.detail}; the original is kept"


@dataclass
class _Hunk:
    old: list[Token]
    new: list[Token]
    old_at: int  # offset in the broken text where the change starts
    new_at: int  # offset in the candidate


def refusal(
    broken: str,
    candidate: str,
    *,
    language: str,
    finding: Finding,
    baseline: Baseline | None,
    max_file_kb: int,
    path: Path | None = None,
    checker: Checker | None = None,
) -> str | None:
    """Why `candidate` must not replace `broken` as a fix for `finding`, naming the
    rule (see the module docstring); None when it may go on to the transaction."""
    found = judge(
        broken,
        candidate,
        language=language,
        finding=finding,
        baseline=baseline,
        max_file_kb=max_file_kb,
        path=path or finding.path,
        checker=checker,
    )
    return None if found is None else str(found)


def judge(
    broken: str,
    candidate: str,
    *,
    language: str,
    finding: Finding,
    baseline: Baseline | None,
    max_file_kb: int,
    path: Path,
    checker: Checker | None = None,
) -> Refusal | None:
    """`refusal` as a Refusal (rule and detail), for callers that branch on the rule."""
    size = len(candidate.encode("utf-8", "surrogatepass"))
    if size > max_file_kb * 1024 and size > len(broken.encode("utf-8", "surrogatepass")):
        return Refusal(
            "size", f"the fix makes the file {size // 1024} KiB, over max_file_kb ({max_file_kb})"
        )
    code = language if language in LANGUAGES else None
    judged, _ = _without_requested_import(broken, candidate, code, finding)
    region = _Region(broken, finding, baseline)
    if code is not None:
        old_tokens, new_tokens = tokenize(broken, code), tokenize(judged, code)
        for check in (_exports,):
            if found := check(old_tokens, new_tokens, broken, judged, code):
                return found
        hunks = _hunks(old_tokens, new_tokens)
        if found := _words(hunks, code, finding):
            return found
    if found := region.outside(broken, judged, finding):
        return found
    if code is None:
        return _bloat_lines(broken, judged)
    if found := _operators(hunks, code, broken):
        return found
    if found := _early_close(hunks, new_tokens):
        return found
    if found := _bloat(hunks):
        return found
    changed = _changed_new_lines(broken, candidate)
    if code == "python":
        checks = (
            _python_tuples(hunks, judged),
            _python_indentation(broken, judged, finding),
            _python_warnings(candidate, changed, baseline, path),
        )
    else:
        checks = (_javascript_shape(hunks, judged, new_tokens, path, checker),)
    for found in checks:
        if found:
            return found
    own = _name_in(finding.message) if finding.kind == "static" else None
    return _undefined(candidate, code, changed, baseline, path, checker, own)


# --- the diff -------------------------------------------------------------------------


def _key(token: Token) -> str:
    kind = "str" if token.kind == "ustr" else token.kind
    return f"{kind}\0{token.text}"


def _hunks(old: list[Token], new: list[Token]) -> list[_Hunk]:
    """The token-level differences, common prefix and suffix skipped first so a large
    file with a small change costs little."""
    a, b = [_key(t) for t in old], [_key(t) for t in new]
    lo = 0
    while lo < min(len(a), len(b)) and a[lo] == b[lo]:
        lo += 1
    hi = 0
    while hi < min(len(a), len(b)) - lo and a[-1 - hi] == b[-1 - hi]:
        hi += 1
    matcher = linediff.matcher(a[lo : len(a) - hi], b[lo : len(b) - hi])
    hunks = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        i1, i2, j1, j2 = i1 + lo, i2 + lo, j1 + lo, j2 + lo
        old_at = old[i1].start if i1 < len(old) else (old[-1].end if old else 0)
        new_at = new[j1].start if j1 < len(new) else (new[-1].end if new else 0)
        hunks.append(_Hunk(old[i1:i2], new[j1:j2], old_at, new_at))
    return hunks


def _code(tokens: list[Token]) -> list[Token]:
    return [t for t in tokens if t.kind != "comment"]


def _ops(tokens: list[Token]) -> list[str]:
    return [t.text for t in _code(tokens) if t.kind == "op" and t.text not in _PUNCT]


def _near(a: str, b: str) -> bool:
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


# --- rules on words -------------------------------------------------------------------


def _words(hunks: list[_Hunk], language: str, finding: Finding) -> Refusal | None:
    keywords = PY_KEYWORDS if language == "python" else _JS_KEYWORDS
    empty_block = "expected an indented block" in finding.message
    for hunk in hunks:
        if _quote_only(hunk):
            continue
        before, after = _pieces(hunk.old), _pieces(hunk.new)
        if "".join(before) == "".join(after):
            quoted = len(_pieces(hunk.new, strings=True)) > len(_pieces(hunk.old, strings=True))
            if quoted and not any(t.kind == "ustr" for t in hunk.old):
                return Refusal("deleted-code", "it turns code the author wrote into a string")
            if len(after) >= len(before):
                continue  # the same letters, split by a quote or bracket put back
            return Refusal(
                "renamed",
                f"it merges what the author wrote ({' '.join(before)}) into {' '.join(after)}",
            )
        old, new = _hunk_words(hunk.old), _hunk_words(hunk.new)
        added, lost = new - old, old - new
        for word in list(added.elements()):
            if word in keywords:
                match = next((w for w in lost if lost[w] and _near(w, word)), None)
                if match is not None:  # a misspelt keyword corrected
                    added[word] -= 1
                    lost[match] -= 1
                    continue
            translated = any(_WORD_OPS.get(op) == word for op in _ops(hunk.old))
            if language == "python" and word in ("not", "and", "or") and translated:
                added[word] -= 1
                continue
            if language == "python" and word == "elif" and lost["else"] and lost["if"]:
                added[word] -= 1
                lost["else"] -= 1
                lost["if"] -= 1
                continue
            if word == "pass" and empty_block and language == "python":
                added[word] -= 1
        if language == "javascript":
            new_ops = Counter(_ops(hunk.new)) - Counter(_ops(hunk.old))
            for word, op in _JS_WORD_OPS.items():
                while lost[word] and new_ops[op]:  # Python's `and` written in JavaScript
                    lost[word] -= 1
                    new_ops[op] -= 1
            if lost["elif"] and added["else"] and added["if"]:
                lost["elif"] -= 1
                added["else"] -= 1
                added["if"] -= 1
        added, lost = +added, +lost
        if set(lost) == {_undefined_in(finding)} and (
            finding.kind == "static"
            or (len(added) == 1 and sum(added.values()) == sum(lost.values()))
        ):
            continue  # the undefined name replaced: judged by the undefined-name rule
        if added and lost:
            pairs = ", ".join(
                f"{o!r} to {n!r}" for o, n in zip(sorted(lost), sorted(added), strict=False)
            )
            return Refusal("renamed", f"it replaces what the author wrote ({pairs})")
        if added:
            shown = ", ".join(sorted(added))
            return Refusal(
                "added-code",
                f"it adds code the broken text did not have ({shown}); a syntax fix adds"
                " punctuation, not statements, calls or imports",
            )
        if lost:
            if "not" in lost:
                return Refusal("condition", "it drops `not`: the test is inverted")
            shown = ", ".join(sorted(lost))
            return Refusal(
                "deleted-code",
                f"it deletes what the author wrote ({shown}); a syntax fix keeps every"
                " keyword, name and operand",
            )
    return None


_QUOTES = frozenset("'\"`")


def _quote_only(hunk: _Hunk) -> bool:
    """The hunk only adds or moves a quote: what was text or code on either side of it
    is the same characters (a dropped quote put back turns the rest of a line back
    into code, which is not new code)."""
    old = Counter("".join("".join(t.text.split()) for t in hunk.old))
    new = Counter("".join("".join(t.text.split()) for t in hunk.new))
    changed = (new - old) + (old - new)
    closes = any(t.kind == "ustr" for t in hunk.old)  # code quoted away is not this
    return closes and bool(changed) and set(changed) <= _QUOTES


def _pieces(tokens: list[Token], *, strings: bool = False) -> list[str]:
    """The letters and digits of names, numbers and strings (only strings, with
    `strings`), in order, in runs: the same whether a quote or a bracket falls between
    them or not."""
    kinds = ("str", "ustr") if strings else ("name", "num", "str", "ustr", "regex")
    pieces: list[str] = []
    for token in _code(tokens):
        if token.kind in kinds:
            pieces += re.findall(r"[^\W_]+", token.text)
    return pieces


def _undefined_in(finding: Finding) -> str | None:
    """The name a static finding or a runtime NameError/ReferenceError reports
    undefined: replacing that one name (a typo'd call) is the fix the error calls for."""
    if finding.kind == "static":
        return _name_in(finding.message)
    if finding.kind == "runtime":
        for pattern in (_PY_UNDEFINED, _JS_UNDEFINED):
            if match := pattern.search(finding.message):
                return match.group(1)
    return None


def _name_in(message: str) -> str | None:
    found = re.search(r"'([^']+)'", message)
    return found.group(1) if found else None


def _hunk_words(tokens: list[Token]) -> Counter[str]:
    words: Counter[str] = Counter()
    for token in _code(tokens):
        if token.kind in ("name", "num"):
            words[token.text] += 1
        elif token.kind in ("str", "ustr", "regex"):
            words.update(re.findall(r"[^\W_]+|_+", token.text))
    return words


def _operators(hunks: list[_Hunk], language: str, broken: str) -> Refusal | None:
    for hunk in hunks:
        old, new = _ops(hunk.old), _ops(hunk.new)
        if old == new or _quote_only(hunk):
            continue
        if language == "python" and old == ["="] and not new:
            before = broken[max(0, hunk.old_at - 2) : hunk.old_at]
            if before in _PY_LONG_OPS:
                continue  # `===` → `==`, `!==` → `!=`: the comparison the author meant
        if language == "javascript":
            spelt = {op for word, op in _JS_WORD_OPS.items() if _hunk_words(hunk.old)[word]}
            new = [op for op in new if op not in spelt]
            if old == new:
                continue  # Python's `and`/`or`/`not` written as JavaScript's operator
        if ":=" in new and ":=" not in old:
            wrote = " where the author wrote `=`" if "=" in old else ""
            return Refusal(
                "condition", f"it puts `:=` in the code{wrote}: an assignment, not a test"
            )
        if language == "python":
            words = _hunk_words(hunk.new)
            old = [op for op in old if not (_WORD_OPS.get(op) and words[_WORD_OPS[op]])]
            if "".join(old) in ("&&", "||") and not new:
                old = []
        lost = Counter(old) - Counter(new)
        if "!" in lost and not lost.keys() - {"!"} and not new:
            return Refusal("condition", "it drops `!`: the test is inverted")
        if not old and not new:
            continue
        pair = ("".join(old), "".join(new))
        if pair in _SWAPS[language] or pair[0] == pair[1]:
            continue
        if {pair[0], pair[1]} <= {"<", ">", "<=", ">="}:
            return Refusal(
                "condition", f"it turns `{pair[0]}` into `{pair[1]}`: the test is inverted"
            )
        if not new:
            return Refusal(
                "operator",
                f"it drops the operator `{pair[0]}`: an operand is missing and only the"
                " author knows which",
            )
        if not old:
            return Refusal("operator", f"it adds the operator `{pair[1]}` the author did not write")
        return Refusal("operator", f"it changes the operator `{pair[0]}` to `{pair[1]}`")
    return None


def _early_close(hunks: list[_Hunk], tokens: list[Token]) -> Refusal | None:
    """`print('{}'.format(v)` closed as `print('{}').format(v)`: the bracket goes
    before a trailer that was part of the argument. And `5(%5)` made `5%5`: a pair of
    brackets the author wrote, removed, takes a call (or a grouping) away."""
    plain = [h for h in hunks if not _quote_only(h)]
    deleted = Counter(
        t.text for h in plain for t in h.old if t.text in OPENERS or t.text in CLOSERS
    )
    deleted -= Counter(t.text for h in plain for t in h.new)
    for opener, closer in OPENERS.items():
        if deleted[opener] and deleted[closer]:
            return Refusal(
                "call",
                f"it removes a pair of brackets `{opener}{closer}` the author wrote, and the"
                " call or grouping they made",
            )
    starts = {t.start: i for i, t in enumerate(tokens)}
    for hunk in hunks:
        closers = Counter(t.text for t in hunk.new if t.text in CLOSERS)
        closers -= Counter(t.text for t in hunk.old if t.text in CLOSERS)
        for token in hunk.new:
            if not closers[token.text]:
                continue
            i = starts.get(token.start)
            nxt = tokens[i + 1] if i is not None and i + 1 < len(tokens) else None
            if nxt is not None and nxt.text in (".", "(", "[", "?."):
                line = token.line
                return Refusal(
                    "call",
                    f"it closes a bracket before `{nxt.text}` on line {line}, so what followed"
                    " applies to the bracket's result instead of its content",
                )
    return None


def _bloat(hunks: list[_Hunk]) -> Refusal | None:
    added = 0
    for hunk in hunks:
        new = sum(len(t.text) for t in hunk.new if t.kind != "comment")
        old = sum(len(t.text) for t in hunk.old if t.kind != "comment")
        added += max(0, new - old)
        old_comments = {t.text for t in hunk.old if t.kind == "comment"}
        added += sum(
            len(t.text) for t in hunk.new if t.kind == "comment" and t.text not in old_comments
        )
    if added > ADDED_CHARS:
        return Refusal(
            "bloat",
            f"it adds {added} characters the fix did not need (at most {ADDED_CHARS}):"
            " a comment or a line nobody asked for",
        )
    return None


def _bloat_lines(broken: str, candidate: str) -> Refusal | None:
    old = Counter(line.strip() for line in broken.split("\n"))
    added = sum(len(line.strip()) for line in candidate.split("\n") if not old[line.strip()])
    removed = sum(len(line.strip()) for line in broken.split("\n")) - sum(
        len(line.strip()) for line in candidate.split("\n")
    )
    if added - max(removed, 0) > ADDED_CHARS * 4:
        return Refusal("bloat", f"it adds {added} characters of new lines")
    return None


# --- exports --------------------------------------------------------------------------


def _exports(
    old_tokens: list[Token], new_tokens: list[Token], broken: str, candidate: str, language: str
) -> Refusal | None:
    had = _exported(old_tokens, broken, language)
    have = _exported(new_tokens, candidate, language)
    gone = sorted(set(had) - set(have))
    if gone:
        shown = ", ".join(gone)
        return Refusal("export", f"it drops or renames what the file exports or defines ({shown})")
    return None


def _exported(tokens: list[Token], text: str, language: str) -> set[str]:
    """Names a file gives others, read from its tokens (the broken text does not parse,
    and both sides must be read the same way): Python's def/class names (at any depth:
    re-indenting a method that lost its indentation keeps it) and `__all__`;
    JavaScript's `module.exports`, `exports.X`, `export` and function/class
    declarations. Only identifiers count: a broken string reads as noise."""
    starts = set(line_starts(text))
    code = _code(tokens)
    names: set[str] = set()
    for i, token in enumerate(code):
        nxt = code[i + 1] if i + 1 < len(code) else None
        if nxt is None:
            break
        at_line_start = token.start in starts
        if token.kind != "name":
            continue
        if language == "python":
            if token.text in ("def", "class") and nxt.kind == "name":
                names.add(f"{token.text} {nxt.text}")
            elif token.text == "__all__" and at_line_start:
                found = _strings_until_close(code, i + 1, starts)
                names.update(f"__all__ {n}" for n in found if n.isidentifier())
        else:
            if token.text in ("function", "class") and nxt.kind == "name":
                names.add(f"{token.text} {nxt.text}")
            elif token.text == "export":
                names.update(f"export {n}" for n in _js_export(code, i + 1))
            elif token.text in ("module", "exports") and at_line_start:
                names.update(f"exports {n}" for n in _js_module_exports(code, i))
    return names


def _strings_until_close(code: list[Token], i: int, starts: set[int]) -> list[str]:
    found, depth = [], 0
    for token in code[i:]:
        if token.start in starts and token.line > code[i].line:
            break  # the next top-level statement: an unclosed list ends here
        if token.text in OPENERS:
            depth += 1
        elif token.text in CLOSERS:
            depth -= 1
            if depth <= 0:
                break
        elif token.kind == "str":
            found.append(token.text.strip("'\"rRbBuU"))
        elif depth == 0 and token.text not in ("=", "+="):
            break
    return found


def _js_export(code: list[Token], i: int) -> list[str]:
    if i >= len(code):
        return []
    head = code[i].text
    if head == "default":
        return ["default"]
    if head in ("function", "class", "const", "let", "var", "async"):
        j = i + 1
        while j < len(code) and code[j].text in ("function", "*"):
            j += 1
        return [code[j].text] if j < len(code) and code[j].kind == "name" else []
    if head == "{":
        return _js_object_keys(code, i)
    return []


def _js_module_exports(code: list[Token], i: int) -> list[str]:
    texts = [t.text for t in code[i : i + 5]]
    if texts[:3] == ["module", ".", "exports"]:
        rest = texts[3:]
        if rest[:1] == ["="] and i + 4 < len(code) and code[i + 4].text == "{":
            return _js_object_keys(code, i + 4)
        if rest[:1] == ["."] and len(texts) > 4:
            return [texts[4]]
        if rest[:1] == ["="]:
            return ["module.exports"]
    elif texts[:2] == ["exports", "."] and len(texts) > 2:
        return [texts[2]]
    return []


def _js_object_keys(code: list[Token], i: int) -> list[str]:
    """Keys of the object literal opening at code[i]: `{ a, b: c, d() {}, ...e }`."""
    keys, depth, expect_key = [], 0, True
    for j in range(i, len(code)):
        text = code[j].text
        if text in OPENERS:
            depth += 1
            if depth == 1:
                expect_key = True
                continue
        elif text in CLOSERS:
            depth -= 1
            if depth <= 0:
                break
        if depth != 1:
            continue
        if text == ",":
            expect_key = True
        elif expect_key and code[j].kind in ("name", "str", "num"):
            keys.append(code[j].text.strip("'\""))
            expect_key = False
        elif expect_key and text != "...":
            expect_key = False
    return keys


# --- the region -----------------------------------------------------------------------


class _Region:
    """The lines of the broken text a fix may change (0-based)."""

    def __init__(self, broken: str, finding: Finding, baseline: Baseline | None) -> None:
        self.lines = broken.split("\n")
        n = len(self.lines)
        code = [i for i, line in enumerate(self.lines) if line.strip()]
        at = min(max((finding.line or n) - 1, 0), max(n - 1, 0))
        focus = [at] + [int(m) - 1 for m in re.findall(r"on line (\d+)", finding.message)]
        self.strict: set[int] = set()
        for line in focus:
            self.strict |= _code_window(code, line, LINES_BEFORE, LINES_AFTER)
        self.loose = set()
        for line in focus:
            self.loose |= set(range(line - PUNCTUATION_LINES, line + PUNCTUATION_LINES + 1))
        self.eof = bool(_EOF.search(finding.message))
        self.indentation = "indent" in finding.message.lower()
        if baseline is not None:
            span = changed_region(self.lines, baseline.text.split("\n"))
            if span is not None and span[1] - span[0] <= BASELINE_MAX_SPAN:
                self.strict |= set(range(span[0], span[1] + 1))
                self.loose |= set(range(span[0], span[1] + 1))

    def outside(self, broken: str, candidate: str, finding: Finding) -> Refusal | None:
        # Blank lines are left out: a model drops the final newline or adds a blank line.
        old = [(i, line.rstrip()) for i, line in enumerate(broken.split("\n")) if line.strip()]
        new = [line.rstrip() for line in candidate.split("\n") if line.strip()]
        a = [line for _, line in old]
        lo = 0
        while lo < min(len(a), len(new)) and a[lo] == new[lo]:
            lo += 1
        hi = 0
        while hi < min(len(a), len(new)) - lo and a[-1 - hi] == new[-1 - hi]:
            hi += 1
        matcher = linediff.matcher(a[lo : len(a) - hi], new[lo : len(new) - hi])
        at = [i for i, _ in old] + [len(self.lines)]
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            i1, i2, j1, j2 = i1 + lo, i2 + lo, j1 + lo, j2 + lo
            if i2 > i1:
                touched = {at[i] for i in range(i1, i2)}
                inside = touched <= self.strict
            else:  # lines inserted between two lines of the broken text
                touched = {at[i1 - 1] if i1 else 0, at[i1]}
                inside = bool(touched & self.strict)
            if inside or self._allowed_far(a[i1:i2], new[j1:j2], touched):
                continue
            first = min(touched) + 1
            return Refusal(
                "region",
                f"it changes line {first}, outside the faulty region (the error's statement"
                f" at line {finding.line or len(self.lines)} and the lines changed since the"
                " last good version)",
            )
        return None

    def _allowed_far(self, before: list[str], after: list[str], touched: set[int]) -> bool:
        """Punctuation placed where the layout says, and re-indentation for an
        indentation error, may be further from the reported line."""
        strip = ["".join(s.split()) for s in before]
        strip_after = ["".join(s.split()) for s in after]
        if self.indentation and strip == strip_after and touched <= self.loose:
            return True
        if not (self.eof or touched <= self.loose):
            return False
        old_chars = Counter("".join(strip))
        new_chars = Counter("".join(strip_after))
        extra, lost = new_chars - old_chars, old_chars - new_chars
        return not lost and set(extra) <= set(")]};,")


def _code_window(code: list[int], line: int, before: int, after: int) -> set[int]:
    k = bisect.bisect_left(code, line)
    lo = code[max(k - before, 0)] if code else line
    hi_index = k + after if k < len(code) and code[k] == line else k + after - 1
    hi = code[min(hi_index, len(code) - 1)] if code else line
    return set(range(min(lo, line), max(hi, line) + 1))


def _changed_new_lines(broken: str, candidate: str) -> set[int]:
    """1-based lines of the candidate that differ from the broken text."""
    a, b = broken.split("\n"), candidate.split("\n")
    matcher = linediff.matcher(a, b)
    changed: set[int] = set()
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            changed.update(range(j1 + 1, j2 + 1))
    return changed


# --- the import the error asks for -----------------------------------------------------


def _without_requested_import(
    broken: str, candidate: str, language: str | None, finding: Finding
) -> tuple[str, str | None]:
    """The candidate without the one import/require of the name a NameError or
    ReferenceError reports undefined (the statement that error calls for), and that
    name; else the candidate itself and None."""
    pattern = {"python": _PY_UNDEFINED, "javascript": _JS_UNDEFINED}.get(language or "")
    if pattern is None or finding.kind != "runtime":
        return candidate, None
    match = pattern.search(finding.message)
    if match is None:
        return candidate, None
    name = match.group(1)
    old, new = broken.split("\n"), candidate.split("\n")
    matcher = linediff.matcher(old, new)
    inserts = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if len(inserts) < 1 or inserts[0][0] != "insert":
        return candidate, None
    _, _, _, j1, j2 = inserts[0]
    added = [line for line in new[j1:j2] if line.strip()]
    if len(added) != 1 or not _imports_exactly(added[0].strip(), name, language):
        return candidate, None
    return "\n".join(new[:j1] + new[j2:]), name


def _imports_exactly(line: str, name: str, language: str | None) -> bool:
    if language == "python":
        try:
            tree = ast.parse(line)
        except SyntaxError:
            return False
        if len(tree.body) != 1 or not isinstance(tree.body[0], (ast.Import, ast.ImportFrom)):
            return False
        bound = {(a.asname or a.name).split(".")[0] for a in tree.body[0].names}
        return bound == {name}
    quoted = r"""(['"])[\w@./-]+\1"""
    patterns = (
        rf"(?:const|let|var)\s+{re.escape(name)}\s*=\s*require\(\s*{quoted}\s*\)\s*;?",
        rf"(?:const|let|var)\s+\{{\s*{re.escape(name)}\s*\}}\s*=\s*require\(\s*{quoted}\s*\)\s*;?",
        rf"import\s+(?:\*\s+as\s+)?{re.escape(name)}\s+from\s+{quoted}\s*;?",
        rf"import\s+\{{\s*{re.escape(name)}\s*\}}\s+from\s+{quoted}\s*;?",
    )
    return any(re.fullmatch(p, line) for p in patterns)


# --- Python ---------------------------------------------------------------------------


def _offsets(text: str):
    """(lineno, utf-8 col) as ast reports them -> code point offset in `text`."""
    starts = line_starts(text)
    lines = text.split("\n")

    def at(lineno: int, col: int) -> int:
        line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
        if line.isascii():
            return starts[lineno - 1] + col
        return starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", "ignore"))

    return at


def _parse(text: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return None


_TUPLE_FORBIDDEN = (
    (ast.If, "test", "condition"),
    (ast.While, "test", "condition"),
    (ast.Assert, "test", "assertion"),
    (ast.IfExp, "test", "condition"),
    (ast.Return, "value", "return value"),
    (ast.Expr, "value", "statement"),
    (ast.Call, "func", "call"),
)


def _python_tuples(hunks: list[_Hunk], candidate: str) -> Refusal | None:
    inserted = [
        t.start
        for hunk in hunks
        for t in hunk.new
        if t.text == ","
        and sum(o.text == "," for o in hunk.old) < sum(n.text == "," for n in hunk.new)
    ]
    colons = {t.start for hunk in hunks for t in hunk.new if t.text == ":"}
    if not inserted and not colons:
        return None
    tree = _parse(candidate)
    if tree is None:
        return None
    at = _offsets(candidate)
    inserted_set = set(inserted)
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and node.value is None and colons and not _a_type(node):
            colon = candidate.find(
                ":", at(node.target.end_lineno or 1, node.target.end_col_offset or 0)
            )
            if colon in colons:
                return Refusal(
                    "tuple", f"it turns the statement on line {node.lineno} into an annotation"
                )
        for kind, field, what in _TUPLE_FORBIDDEN:
            if not isinstance(node, kind):
                continue
            value = getattr(node, field, None)
            if isinstance(node, ast.Compare | ast.BoolOp):
                continue
            if isinstance(value, ast.Tuple) and _all_commas_new(value, candidate, at, inserted_set):
                return Refusal("tuple", f"it turns a {what} into a tuple (line {node.lineno})")
        if isinstance(node, ast.Compare | ast.BoolOp):
            parts = [node.left, *node.comparators] if isinstance(node, ast.Compare) else node.values
            for part in parts:
                if isinstance(part, ast.Tuple) and _all_commas_new(
                    part, candidate, at, inserted_set
                ):
                    return Refusal(
                        "tuple", f"it turns a comparison into a tuple (line {node.lineno})"
                    )
    return None


_TYPE_NAMES = frozenset({"int", "str", "float", "bool", "bytes", "list", "dict", "set", "tuple"})


def _a_type(node: ast.AnnAssign) -> bool:
    """`model: Required[str]` is a field declared; `print: total` is not."""
    if isinstance(node.target, ast.Name) and node.target.id in ("print", "exec"):
        return False
    note = node.annotation
    if isinstance(note, ast.Name):
        return note.id[:1].isupper() or note.id in _TYPE_NAMES
    return isinstance(note, ast.Subscript | ast.Attribute | ast.Constant | ast.BinOp)


def _all_commas_new(node: ast.Tuple, text: str, at, inserted: set[int]) -> bool:
    commas = []
    for left, right in zip(node.elts, node.elts[1:], strict=False):
        start = at(left.end_lineno or left.lineno, left.end_col_offset or 0)
        end = at(right.lineno, right.col_offset)
        comma = text.find(",", start, end)
        if comma >= 0:
            commas.append(comma)
    if len(node.elts) == 1:  # `x,`: the one trailing comma
        end = at(node.end_lineno or node.lineno, node.end_col_offset or 0)
        comma = text.rfind(",", 0, end)
        commas.append(comma)
    return bool(commas) and all(c in inserted for c in commas)


def _python_indentation(broken: str, candidate: str, finding: Finding) -> Refusal | None:
    """An empty block is not filled by pulling the next statement into it: a line at the
    header's level that stays followed by its siblings, or that uses nothing the header
    binds, was never the block's body (the author writes `pass`)."""
    match = _INDENTED_BLOCK.search(finding.message)
    if match is None:
        return None
    header_at = int(match.group(2)) - 1
    old, new = broken.split("\n"), candidate.split("\n")
    if len(old) != len(new) or not 0 <= header_at < len(old):
        return None
    header = old[header_at]
    level = _indent(header)
    moved = [
        i
        for i in range(header_at + 1, len(old))
        if old[i].strip() and new[i].strip() and _indent(new[i]) > _indent(old[i])
    ]
    if not moved or _indent(old[moved[0]]) > level:
        return None
    last = moved[0]
    while last + 1 < len(old) and (last + 1 in moved or not old[last + 1].strip()):
        last += 1
    following = next((i for i in range(last + 1, len(old)) if old[i].strip()), None)
    first = moved[0] + 1
    if re.match(r"(async\s+)?(def|class)\b", header.strip()):
        return None  # a def or class is never left empty: its body lost its indentation
    if following is not None and _indent(old[following]) == _indent(old[moved[0]]):
        return Refusal(
            "indentation",
            f"it indents line {first} into the empty block of line {header_at + 1} and leaves"
            " the lines after it outside: an empty block needs `pass`",
        )
    bound = _header_names(header.strip())
    body = "\n".join(new[moved[0] : last + 1])
    if bound and not any(re.search(rf"\b{re.escape(n)}\b", body) for n in bound):
        return Refusal(
            "indentation",
            f"it indents line {first} into the block of line {header_at + 1}, but that line"
            f" uses nothing the block binds ({', '.join(sorted(bound))}):"
            " an empty block needs `pass`",
        )
    return None


def _indent(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def _header_names(header: str) -> set[str]:
    """Names a block header binds: a for loop's targets, `with ... as` names."""
    tree = _parse(header + "\n    pass\n")
    if tree is None or not tree.body:
        return set()
    node = tree.body[0]
    names: set[str] = set()
    if isinstance(node, ast.For | ast.AsyncFor):
        names = {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    elif isinstance(node, ast.With | ast.AsyncWith):
        for item in node.items:
            if item.optional_vars is not None:
                names |= {n.id for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)}
    return names


def _python_warnings(
    candidate: str, changed: set[int], baseline: Baseline | None, path: Path
) -> Refusal | None:
    had = _syntax_warnings(baseline.text, path) if baseline is not None else []
    old = Counter(message for message, _ in had)
    for message, line in _syntax_warnings(candidate, path):
        if line in changed and not old[message]:
            return Refusal("syntax-warning", f"Python warns about line {line}: {message}")
    return None


def _syntax_warnings(text: str, path: Path) -> list[tuple[str, int]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            compile(text, str(path), "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError):
            return []
    return [
        (str(w.message), int(w.lineno or 0))
        for w in caught
        if issubclass(w.category, SyntaxWarning)
    ]


# --- JavaScript -----------------------------------------------------------------------


def _javascript_shape(
    hunks: list[_Hunk], candidate: str, tokens: list[Token], path: Path, checker: Checker | None
) -> Refusal | None:
    shape = getattr(checker, "shape", None)
    if shape is None:
        return None
    try:
        found = shape(path, candidate)
    except CheckerUnavailable:
        return None
    if found is None:
        return None
    commas, asi = found
    new_commas = {t.start for hunk in hunks for t in hunk.new if t.text == ","}
    new_commas |= {t.start for hunk in hunks for t in hunk.new if t.text == ":"}
    for comma in commas:
        if comma in new_commas:
            line = candidate.count("\n", 0, comma) + 1
            what = "a label" if candidate[comma] == ":" else "a comma expression"
            return Refusal("tuple", f"it turns the code at line {line} into {what}")
    changed = {t.start for hunk in hunks for t in hunk.new}
    deleted_at = {hunk.new_at for hunk in hunks if hunk.old and not hunk.new}
    starts = [t.start for t in tokens]
    for point in asi:
        k = bisect.bisect_left(starts, point)  # the token after the inserted semicolon
        prev = tokens[k - 1] if k else None
        nxt = tokens[k] if k < len(tokens) else None
        # Tokens removed right there, or a `return` now cut from what followed it:
        # semicolon-free code that ends a line where it always did is left alone.
        removed = nxt is not None and nxt.start in deleted_at
        cut = (
            prev is not None
            and prev.text in ("return", "throw", "yield", "break", "continue")
            and nxt is not None
            and (nxt.start in changed or prev.start in changed)
        )
        if removed or cut:
            line = candidate.count("\n", 0, point) + 1
            return Refusal(
                "asi",
                f"it only parses because a semicolon is inserted automatically at line {line},"
                " which ends the statement the author wrote",
            )
    return None


# --- undefined names ------------------------------------------------------------------


def _undefined(
    candidate: str,
    language: str,
    changed: set[int],
    baseline: Baseline | None,
    path: Path,
    checker: Checker | None,
    own: str | None,
) -> Refusal | None:
    """`own`: the name a static finding is about; whether the fix removed it is
    static.refusal's verdict, with its own reason."""
    try:
        after = static.static_errors(language, candidate, path, checker=checker)
        before = (
            static.static_errors(language, baseline.text, path, checker=checker)
            if baseline is not None
            else None
        )
    except CheckerUnavailable:
        return None
    if not after:
        return None
    if before is not None:
        new = Counter(m for m, _, _ in after) - Counter(m for m, _, _ in before)
        hits = [(m, line) for m, line, _ in after if new[m]]
    else:
        hits = [(m, line) for m, line, _ in after if line in changed]
    hits = [(m, line) for m, line in hits if own is None or _name_in(m) != own]
    if hits:
        message, line = hits[0]
        return Refusal("undefined-name", f"{message} (line {line}) in the file as it would be")
    return None
