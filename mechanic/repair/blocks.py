"""The smallest unit of code around an error, found in a file that does not parse.

A parser cannot help here (the file is broken), so units are found the way a
person reads code: by indentation, which formatted code keeps even when a
bracket is missing, checked against the brackets a small lexer sees outside
strings and comments. Python units are `def`/`class` blocks (with their
decorators); JavaScript units are functions, methods and classes whose braces
match (strings, comments, template literals and regular expressions skipped).
Top-level code, or a unit too long to send, gets a window of whole statements.

Lines are 0-based here; a Block is the half-open range [start, end).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_BLOCK_LINES = 120  # a longer unit is narrowed to a window inside it
WINDOW_LINES = 12  # statements added on each side of the error in a window


@dataclass(frozen=True)
class Block:
    start: int
    end: int
    kind: str  # "unit" (function, method, class) or "window"
    header: str = ""

    @property
    def size(self) -> int:
        return self.end - self.start

    def covers(self, first: int, last: int) -> bool:
        return self.start <= first and last < self.end


@dataclass
class _Layout:
    code: list[bool]  # the line starts in code and holds some (not blank, not only a comment)
    indent: list[int]
    units: list[Block]
    inside: list[bool] | None = None  # the line starts inside a multi-line string or comment


def indent_of(line: str) -> int:
    expanded = line.expandtabs(8)
    return len(expanded) - len(expanded.lstrip())


# --- Python -----------------------------------------------------------------

_PY_HEADER = re.compile(r"^[ \t]*+(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)")
_PY_SPECIAL = re.compile(r"[#'\"]")
# The end of a one-line string: its quote, escapes skipped (an unclosed one ends the line).
_PY_STRING_END = {q: re.compile(rf"(?:[^{q}\\]|\\.)*+{q}") for q in "'\""}


def _python_code_lines(lines: list[str]) -> tuple[list[bool], list[bool]]:
    """Which lines start outside a string and hold code, and which start inside a
    triple-quoted string (a tiny lexer: quotes, triple quotes, escapes and
    comments; an unclosed single quote ends at the line)."""
    code: list[bool] = []
    inside: list[bool] = []
    triple: str | None = None
    for line in lines:
        starts_in_string = triple is not None
        i, n = 0, len(line)
        while i < n:
            if triple is not None:
                end = line.find(triple, i)
                while end > 0 and _escaped(line, end):
                    end = line.find(triple, end + 1)
                if end < 0:
                    i = n
                    break
                i, triple = end + 3, None
                continue
            # Straight to the next character that matters (regex speed, not a
            # Python step per character: a 1 MB line costs milliseconds).
            found = _PY_SPECIAL.search(line, i)
            if found is None:
                break
            i, ch = found.start(), found.group()
            if ch == "#":
                break
            if line.startswith(ch * 3, i):
                triple, i = ch * 3, i + 3
                continue
            stop = _PY_STRING_END[ch].match(line, i + 1)
            i = n if stop is None else stop.end()
        stripped = line.strip()
        code.append(not starts_in_string and bool(stripped) and not stripped.startswith("#"))
        inside.append(starts_in_string)
    return code, inside


def _escaped(line: str, index: int) -> bool:
    backslashes = 0
    while index - 1 - backslashes >= 0 and line[index - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _python_layout(lines: list[str]) -> _Layout:
    code, inside = _python_code_lines(lines)
    indent = [indent_of(line) for line in lines]
    headers = {h: m for h, line in enumerate(lines) if code[h] and (m := _PY_HEADER.match(line))}
    ends = _ends_by_indent(lines, code, indent, headers, inside)
    units = []
    for h, match in headers.items():
        end = ends[h]
        start = h
        while start > 0 and code[start - 1] and lines[start - 1].lstrip().startswith("@"):
            if indent[start - 1] != indent[h]:
                break
            start -= 1
        units.append(Block(start, end, "unit", f"{match.group(1)} {match.group(2)}"))
    return _Layout(code, indent, units, inside)


def _ends_by_indent(
    lines: list[str], code: list[bool], indent: list[int], heads: Iterable[int], inside: list[bool]
) -> dict[int, int]:
    """End (exclusive) of the unit headed at each line of `heads`: before the next
    code line indented no deeper than the header. A closing bracket at the header's
    depth belongs to it (a multi-line signature's `):`, a JavaScript `}`). Trailing
    blank and comment lines are left out.

    One pass with a stack of the headers still open, so deep nesting costs no
    more than flat code (a scan per header was quadratic in the depth)."""
    starts = set(heads)
    ends: dict[int, int] = {}
    open_heads: list[int] = []  # indents never decrease from bottom to top
    last = -1  # the last line a unit still open would take in
    for j in range(len(lines)):
        if inside[j]:  # a string or comment running on from the line before
            last = j
        elif code[j]:
            opener = lines[j].lstrip()[:1]
            while open_heads and indent[open_heads[-1]] >= indent[j]:
                h = open_heads[-1]
                if indent[h] == indent[j] and opener in (")", "]"):
                    break  # the header's own closing bracket: it stays open
                open_heads.pop()
                ends[h] = j + 1 if indent[h] == indent[j] and opener == "}" else last + 1
            # Headers left below the top of the stack at the same depth (each kept
            # open by a bracket) stay open too: their bracket rule is the same.
            last = j
        if j in starts:
            open_heads.append(j)
            last = j
    for h in open_heads:
        ends[h] = last + 1
    return ends


# --- JavaScript -------------------------------------------------------------

_JS_HEADER = re.compile(
    r"\bfunction\b|\bclass\s+[\w$]|=>\s*\{|"
    r"^[ \t]*(?:(?:static|async|get|set|\*)\s*)*(?!(?:if|for|while|switch|catch|with|return)\b)"
    r"[#\w$]+\s*\([^;]*\)\s*\{"
)
_REGEX_AFTER_WORD = {
    "return",
    "typeof",
    "case",
    "do",
    "else",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "yield",
    "await",
    "instanceof",
}


def _js_scan(text: str) -> tuple[list[bool], list[tuple[int, int]], list[int]]:
    """Lex `text` once: which lines start in code, matched `{`/`}` line pairs,
    and the lines of `{` left open. Strings, comments, template literals (with
    nested `${}`) and regular expression literals are skipped."""
    lines_start_in_code = [True]
    pairs: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []  # ("{", line) or ("${", line)
    state = "code"  # code | line_comment | block_comment | template
    line = 0
    prev = ""  # last significant code character or word, for regex detection
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            if state == "line_comment":
                state = "code"
            lines_start_in_code.append(state == "code")
            i += 1
            continue
        if state == "line_comment":
            i += 1
        elif state == "block_comment":
            if text.startswith("*/", i):
                state, i = "code", i + 2
            else:
                i += 1
        elif state == "template":
            if ch == "\\":
                i += 2 if i + 1 < n and text[i + 1] != "\n" else 1
            elif ch == "`":
                state, prev, i = "code", "x", i + 1
            elif text.startswith("${", i):
                stack.append(("${", line))
                state, prev, i = "code", "{", i + 2
            else:
                i += 1
        elif ch in " \t\r":
            i += 1
        elif text.startswith("//", i):
            state, i = "line_comment", i + 2
        elif text.startswith("/*", i):
            state, i = "block_comment", i + 2
        elif ch in "'\"":
            i += 1
            while i < n and text[i] not in (ch, "\n"):
                i += 2 if text[i] == "\\" and i + 1 < n and text[i + 1] != "\n" else 1
            if i < n and text[i] == ch:
                i += 1
            prev = "x"
        elif ch == "`":
            state, i = "template", i + 1
        elif ch == "/" and (
            prev == "" or prev in "(,=:[!&|?{};+-*%<>~^" or prev in _REGEX_AFTER_WORD
        ):
            i = _skip_regex(text, i)
            prev = "x"
        elif ch == "{":
            stack.append(("{", line))
            prev, i = "{", i + 1
        elif ch == "}":
            if stack and stack[-1][0] == "${":
                stack.pop()
                state, i = "template", i + 1
                continue
            if stack:
                pairs.append((stack.pop()[1], line))
            prev, i = "}", i + 1
        elif ch.isalnum() or ch in "_$":
            start = i
            while i < n and (text[i].isalnum() or text[i] in "_$"):
                i += 1
            prev = text[start:i]
        else:
            prev, i = ch, i + 1
    unclosed = [opened for kind, opened in stack if kind == "{"]
    return lines_start_in_code, pairs, unclosed


def _skip_regex(text: str, i: int) -> int:
    i += 1
    in_class = False
    while i < len(text) and text[i] != "\n":
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "/" and not in_class:
            i += 1
            while i < len(text) and (text[i].isalnum() or text[i] in "_$"):
                i += 1  # flags
            return i
        i += 1
    return i  # unterminated: not a regex after all, resume at the line end


def _js_layout(lines: list[str]) -> _Layout:
    starts_in_code, pairs, _ = _js_scan("\n".join(lines))
    indent = [indent_of(line) for line in lines]
    code, inside = [], []
    for index, line in enumerate(lines):
        stripped = line.strip()
        in_code = index < len(starts_in_code) and starts_in_code[index]
        code.append(in_code and bool(stripped) and not stripped.startswith(("//", "/*", "*")))
        inside.append(not in_code)
    closes: dict[int, int] = {}
    for opened, closed in pairs:
        closes[opened] = max(closes.get(opened, opened), closed)
    heads = [
        h for h, line in enumerate(lines) if code[h] and "{" in line and _JS_HEADER.search(line)
    ]
    by_indent = _ends_by_indent(lines, code, indent, heads, inside)
    units = []
    for h in heads:
        line = lines[h]
        closing = closes.get(h)
        # Braces are trusted when the closing one sits at the header's depth, as
        # formatted code has it; a fault can pair braces wrongly, indentation not.
        if closing is not None and (closing == h or indent[closing] == indent[h]):
            end = closing + 1
        else:
            end = by_indent[h]
        name = re.sub(r"\s+", " ", line.strip())[:60]
        units.append(Block(h, end, "unit", name))
    return _Layout(code, indent, units, inside)


# --- choosing the block -----------------------------------------------------


def layout(lines: list[str], language: str) -> _Layout:
    if language == "python":
        return _python_layout(lines)
    if language == "javascript":
        return _js_layout(lines)
    stripped = [bool(line.strip()) for line in lines]
    return _Layout(stripped, [indent_of(line) for line in lines], [])


def find_block(
    lines: list[str],
    language: str,
    focus: list[int],
    *,
    max_lines: int = MAX_BLOCK_LINES,
    window: int = WINDOW_LINES,
) -> Block:
    """The smallest unit holding every line in `focus` (0-based), or a window of
    whole statements around them when no unit of at most `max_lines` does."""
    n = max(len(lines), 1)
    first = min(max(min(focus), 0), n - 1) if focus else 0
    last = min(max(max(focus), 0), n - 1) if focus else n - 1
    found = layout(lines, language)
    holding = sorted(
        (u for u in found.units if u.covers(first, last)), key=lambda u: (u.size, -u.start)
    )
    for unit in holding:
        if unit.size <= max_lines:
            return unit
    parent = holding[0] if holding else Block(0, n, "file")
    return _window(lines, found, parent, first, last, window, max_lines)


def _window(
    lines: list[str],
    found: _Layout,
    parent: Block,
    first: int,
    last: int,
    window: int,
    max_lines: int,
) -> Block:
    """Whole statements of `parent`'s body around [first, last]: a statement
    starts at a code line as shallow as the body's first one."""
    body_start = parent.start + (1 if parent.kind == "unit" else 0)
    body = [i for i in range(body_start, parent.end) if found.code[i]]
    if not body:
        return Block(max(first - window, 0), min(last + window + 1, len(lines)), "window")
    depth = min(found.indent[i] for i in body)
    starts = [i for i in body if found.indent[i] <= depth and not _continues(lines[i])]
    if not starts or starts[0] > body_start:
        starts.insert(0, body_start)
    bounds = [*starts, parent.end if parent.kind == "unit" else len(lines)]
    segments = list(itertools.pairwise(bounds))
    if parent.kind == "unit" and segments:
        segments[-1] = (segments[-1][0], _trim_end(lines, found, parent.end))
    touched = [k for k, (s, e) in enumerate(segments) if s <= last and e > first]
    if not touched:
        return Block(max(first - window, 0), min(last + window + 1, len(lines)), "window")
    lo, hi = touched[0], touched[-1]
    start, end = segments[lo][0], segments[hi][1]
    if end - start > max_lines:  # one huge statement: a plain window of lines inside it
        start = max(start, first - window)
        end = min(end, last + window + 1)
        return Block(start, end, "window")
    # Grow by whole statements, nearest first, while each side stays within `window`.
    while True:
        grew = False
        if (
            lo > 0
            and first - segments[lo - 1][0] <= window
            and segments[hi][1] - segments[lo - 1][0] <= max_lines
        ):
            lo, grew = lo - 1, True
        if (
            hi + 1 < len(segments)
            and segments[hi + 1][1] - 1 - last <= window
            and segments[hi + 1][1] - segments[lo][0] <= max_lines
        ):
            hi, grew = hi + 1, True
        if not grew:
            break
    return Block(segments[lo][0], _trim_end(lines, found, segments[hi][1]), "window")


def _continues(line: str) -> bool:
    return bool(re.match(r"^[ \t]*(?:[)\]}]|(?:else|elif|except|finally|catch)\b)", line))


def _trim_end(lines: list[str], found: _Layout, end: int) -> int:
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    return end


# --- what the prompt says about the rest of the file ------------------------

_PY_IMPORT = re.compile(r"^(?:import|from)\s+\S")
_JS_IMPORT = re.compile(r"^(?:import\b|(?:const|let|var)\s+.*=\s*require\s*\()")
_PY_NAME = re.compile(
    r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=]*)?="
)
_JS_NAME = re.compile(
    r"^(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\s*\*?\s*([\w$]+)|class\s+([\w$]+)"
    r"|(?:const|let|var)\s+([\w$]+))"
)


def imports_and_names(lines: list[str], language: str, block: Block) -> tuple[list[str], list[str]]:
    """The file's import lines and the names it defines at top level, outside
    the block, so a block repair knows what exists around it."""
    imports: list[str] = []
    names: list[str] = []
    importer = _PY_IMPORT if language == "python" else _JS_IMPORT
    namer = _PY_NAME if language == "python" else _JS_NAME
    for index, line in enumerate(lines):
        if block.start <= index < block.end or not line or line[0] in " \t":
            continue
        if importer.match(line) and len(imports) < 40:
            imports.append(line.rstrip())
            continue
        match = namer.match(line)
        if match:
            name = next(g for g in match.groups() if g)
            if name not in names:
                names.append(name)
    return imports, names[:80]


def splice(lines: list[str], block: Block, replacement: str) -> str:
    """The file's text with the block's lines replaced."""
    return "\n".join([*lines[: block.start], *replacement.split("\n"), *lines[block.end :]])
