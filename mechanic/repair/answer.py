"""Turning a model's answer into candidate code, or refusing it with a reason.

Models wrap code in markdown fences, think aloud in <think> blocks, add a
"Here is the fixed code:" line, or, worst, replace parts of the file with
"... rest of code ..." placeholders that would gut it if written. Everything
here is a pure function of the answer and the original text.
"""

from __future__ import annotations

import re

from mechanic.plural import plural
from mechanic.redact import secret_values

_THINK_BLOCK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.IGNORECASE | re.DOTALL)
_THINK_OPEN = re.compile(r"^\s*<think(?:ing)?>", re.IGNORECASE)
_FENCE = re.compile(r"^[ \t]*```[^\n`]*\n(.*?)^[ \t]*```[ \t]*$", re.DOTALL | re.MULTILINE)
_OPEN_FENCE = re.compile(r"^[ \t]*```[^\n`]*\n", re.MULTILINE)
_PROSE = re.compile(
    r"^\s*(here(?:'s| is| are)|sure\b|certainly\b|below\b|the (?:fixed|corrected|updated)"
    r"|this (?:fixes|should)|i(?:'ve| have)\b|fixed\b|corrected\b|explanation\b|note:"
    r"|changes? made)",
    re.IGNORECASE,
)
_ELISIONS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"(\.\.\.|…)\s*(the\s+)?(rest|remainder|remaining|existing|other|previous|same|more|unchanged)\b",
        r"\b(rest|remainder) of (the )?(code|file|function|class|implementation|module|methods?)\b",
        r"\bexisting code\b",
        r"\b(code|implementation|content|methods?|functions?)\s+"
        r"(unchanged|omitted|remains? the same|as before)\b",
        r"\bomitted for brevity\b",
        r"\bsame as (before|above|original)\b",
        r"^\s*(//|#|/\*|<!--)\s*(\.\.\.|…)\s*(\*/|-->)?\s*$",
        r"^\s*(\.\.\.|…)\s*$",
    )
]
# Below this share of the original's non-blank characters, an answer has
# dropped code rather than fixed it; real fixes change a few characters.
MIN_LENGTH_RATIO = 0.6


class Rejected(ValueError):
    """The answer cannot be used; the message says why."""


def extract_code(answer: str) -> str:
    """The code inside a model's answer: think blocks, fences and prose removed."""
    text = _THINK_BLOCK.sub("", answer)
    if _THINK_OPEN.match(text):
        raise Rejected("the answer is an unfinished <think> block with no code")
    blocks = _FENCE.findall(text)
    if blocks:
        text = max(blocks, key=len)
    else:
        opened = _OPEN_FENCE.search(text)
        if opened:  # a fence that never closes: the code runs to the end
            text = text[opened.end() :]
        text = _trim_prose(text)
    return text.strip("\n")


def _trim_prose(text: str) -> str:
    lines = text.split("\n")
    while lines and (not lines[0].strip() or _PROSE.match(lines[0])):
        lines.pop(0)
    while lines and (not lines[-1].strip() or _PROSE.match(lines[-1])):
        lines.pop()
    return "\n".join(lines)


def _non_blank(text: str) -> int:
    # str.split() drops exactly the characters isspace() names, at C speed.
    return sum(map(len, text.split()))


def review(code: str, original: str) -> None:
    """Raise Rejected when the candidate must not even be validated. How far it
    strays from the fault is judged later, on its diff, by the meaning guard
    (mechanic/repair/guard/meaning.py), which every rung's candidate passes."""
    if not code.strip():
        raise Rejected("the answer holds no code")
    if code.strip() == original.strip():
        raise Rejected("the answer is the original file unchanged")
    known = {line.strip() for line in original.split("\n")}
    for line in code.split("\n"):
        if line.strip() in known:
            continue
        for pattern in _ELISIONS:
            if pattern.search(line):
                raise Rejected(f"the answer elides code with a placeholder: {line.strip()[:80]!r}")
    have, had = _non_blank(code), _non_blank(original)
    if had and have < MIN_LENGTH_RATIO * had:
        raise Rejected(
            f"the answer is far shorter than the original ({have} vs {had} non-blank"
            " characters): code would be lost"
        )
    lost = [secret for secret in secret_values(original) if secret not in code]
    if lost:  # never name them: the reason goes to logs and the store
        raise Rejected(
            f"the answer drops or alters {plural(len(lost), 'secret-like value')} the file holds"
        )


def code_from_answer(answer: str, original: str, *, done_reason: str | None) -> str:
    """The code to validate, or Rejected with the reason."""
    if done_reason == "length":  # whatever it looks like, the end is missing
        raise Rejected("the answer was cut off at the token limit (done_reason 'length')")
    code = extract_code(answer)
    review(code, original)
    return code


def block_from_answer(
    answer: str, lines: list[str], start: int, end: int, *, done_reason: str | None
) -> str:
    """The replacement for lines[start:end] in a block answer, or Rejected.

    A model may echo the whole file around its fix: that is accepted only when
    every line outside the block is exactly the file's own. An answer that
    starts before the block or runs past it (the line above or below it, a new
    function) strays and is refused, as is one that rewrites the block.
    """
    if done_reason == "length":
        raise Rejected("the answer was cut off at the token limit (done_reason 'length')")
    code = extract_code(answer)
    original = "\n".join(lines[start:end])
    got = code.split("\n")
    before, after = lines[:start], lines[end:]
    echoed = _strip_echo(got, before, after)
    if echoed is not None:
        got = echoed
        code = "\n".join(got)
    if _strays(got, before, after, original):
        raise Rejected("the answer changes code outside its block")
    code = _reindent(code, original)
    review(code, original)
    return code


def _strip_echo(got: list[str], before: list[str], after: list[str]) -> list[str] | None:
    """The block's lines in an answer that repeats the whole file around them,
    every line outside the block as the file has it (blank lines aside); else None."""
    above = [line.strip() for line in before if line.strip()]
    below = [line.strip() for line in after if line.strip()]
    if not above and not below:
        return None
    i = j = 0
    while j < len(above):
        if i >= len(got) or (got[i].strip() and got[i].strip() != above[j]):
            return None
        j += 1 if got[i].strip() else 0
        i += 1
    k, j = len(got), len(below)
    while j > 0:
        if k <= i or (got[k - 1].strip() and got[k - 1].strip() != below[j - 1]):
            return None
        j -= 1 if got[k - 1].strip() else 0
        k -= 1
    middle = got[i:k]
    while middle and not middle[0].strip():
        middle.pop(0)
    while middle and not middle[-1].strip():
        middle.pop()
    return middle or None


def _strays(got: list[str], before: list[str], after: list[str], block: str) -> bool:
    """The answer begins with lines from just above the block, or ends with lines
    from just below it (where the block's own edges differ from them)."""
    mine = [line.strip() for line in block.split("\n") if line.strip()]
    answer = [line.strip() for line in got if line.strip()]
    above = [line.strip() for line in before if line.strip()]
    below = [line.strip() for line in after if line.strip()]
    for k in range(1, min(len(answer), len(below)) + 1):
        if answer[-k:] == below[:k] and mine[-k:] != below[:k]:
            return True
    for k in range(1, min(len(answer), len(above)) + 1):
        if answer[:k] == above[-k:] and mine[:k] != above[-k:]:
            return True
    return False


def _reindent(code: str, original: str) -> str:
    """Give an answer the block's own indentation: models often return a method
    flush left. Only a uniform shift is undone; anything else is left to the checker."""
    want = next((line for line in original.split("\n") if line.strip()), "")
    got = next((line for line in code.split("\n") if line.strip()), "")
    want_indent = want[: len(want) - len(want.lstrip())]
    got_indent = got[: len(got) - len(got.lstrip())]
    if want_indent == got_indent:
        return code
    lines = code.split("\n")
    if not got_indent:
        return "\n".join(want_indent + line if line.strip() else line for line in lines)
    if not want_indent and all(line.startswith(got_indent) or not line.strip() for line in lines):
        return "\n".join(line[len(got_indent) :] for line in lines)
    return code
