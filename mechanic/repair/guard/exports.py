"""The export rule: a top-level definition or exported name of the broken text is gone."""

from __future__ import annotations

from mechanic.repair.guard.hunks import Refusal, code_tokens
from mechanic.repair.rungs.deterministic.tokens import (
    CLOSERS,
    OPENERS,
    Token,
    line_starts,
)

# --- exports --------------------------------------------------------------------------


def exports(
    old_tokens: list[Token], new_tokens: list[Token], broken: str, candidate: str, language: str
) -> Refusal | None:
    had = exported(old_tokens, broken, language)
    have = exported(new_tokens, candidate, language)
    gone = sorted(set(had) - set(have))
    if gone:
        shown = ", ".join(gone)
        return Refusal("export", f"it drops or renames what the file exports or defines ({shown})")
    return None


_WORDS_PY = frozenset({"def", "class", "__all__"})
_WORDS_JS = frozenset({"function", "class", "export", "module", "exports"})


def exported(tokens: list[Token], text: str, language: str) -> set[str]:
    """Names a file gives others, read from its tokens (the broken text does not parse,
    and both sides must be read the same way): Python's def/class names (at any depth:
    re-indenting a method that lost its indentation keeps it) and `__all__`;
    JavaScript's `module.exports`, `exports.X`, `export` and function/class
    declarations. Only identifiers count: a broken string reads as noise."""
    code = code_tokens(tokens)
    names: set[str] = set()
    words = _WORDS_PY if language == "python" else _WORDS_JS
    starts: set[int] = set()
    # Only the few tokens that can start a definition are looked at closely: the
    # whole loop ran twice over every token of a big file.
    for i in [i for i, t in enumerate(code) if t.text in words]:
        token = code[i]
        nxt = code[i + 1] if i + 1 < len(code) else None
        if nxt is None:
            break
        if not starts:
            starts = set(line_starts(text))
        at_line_start = token.start in starts
        if token.kind != "name":
            continue
        if language == "python":
            if token.text in ("def", "class") and nxt.kind == "name":
                names.add(f"{token.text} {nxt.text}")
            elif token.text == "__all__" and at_line_start:
                found = strings_until_close(code, i + 1, starts)
                names.update(f"__all__ {n}" for n in found if n.isidentifier())
        else:
            if token.text in ("function", "class") and nxt.kind == "name":
                names.add(f"{token.text} {nxt.text}")
            elif token.text == "export":
                names.update(f"export {n}" for n in js_export(code, i + 1))
            elif token.text in ("module", "exports") and at_line_start:
                names.update(f"exports {n}" for n in js_module_exports(code, i))
    return names


def strings_until_close(code: list[Token], i: int, starts: set[int]) -> list[str]:
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


def js_export(code: list[Token], i: int) -> list[str]:
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
        return js_object_keys(code, i)
    return []


def js_module_exports(code: list[Token], i: int) -> list[str]:
    texts = [t.text for t in code[i : i + 5]]
    if texts[:3] == ["module", ".", "exports"]:
        rest = texts[3:]
        if rest[:1] == ["="] and i + 4 < len(code) and code[i + 4].text == "{":
            return js_object_keys(code, i + 4)
        if rest[:1] == ["."] and len(texts) > 4:
            return [texts[4]]
        if rest[:1] == ["="]:
            return ["module.exports"]
    elif texts[:2] == ["exports", "."] and len(texts) > 2:
        return [texts[2]]
    return []


def js_object_keys(code: list[Token], i: int) -> list[str]:
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
