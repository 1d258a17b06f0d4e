"""Rules on words and operators: added-code, deleted-code, renamed, condition, operator,
call and bloat, judged on the token hunks."""

from __future__ import annotations

from collections import Counter

from mechanic.detect.checkers.base import Finding
from mechanic.repair.guard.hunks import (
    ADDED_CHARS,
    JS_NAMES,
    JS_WORD_OPS,
    PY_LONG_OPS,
    SWAPS,
    WORD_OPS,
    Hunk,
    Refusal,
    hunk_words,
    near,
    ops,
    pieces,
    quote_only,
    undefined_in,
)
from mechanic.repair.rungs.deterministic.generator import PY_KEYWORDS
from mechanic.repair.rungs.deterministic.tokens import (
    CLOSERS,
    OPENERS,
    Token,
)

# --- rules on words -------------------------------------------------------------------


def words(hunks: list[Hunk], language: str, finding: Finding) -> Refusal | None:
    keywords = PY_KEYWORDS if language == "python" else JS_NAMES
    empty_block = "expected an indented block" in finding.message
    for hunk in hunks:
        if quote_only(hunk):
            continue
        before, after = pieces(hunk.old), pieces(hunk.new)
        if "".join(before) == "".join(after):
            quoted = len(pieces(hunk.new, strings=True)) > len(pieces(hunk.old, strings=True))
            if quoted and not any(t.kind == "ustr" for t in hunk.old):
                return Refusal("deleted-code", "it turns code the author wrote into a string")
            if len(after) >= len(before):
                continue  # the same letters, split by a quote or bracket put back
            return Refusal(
                "renamed",
                f"it merges what the author wrote ({' '.join(before)}) into {' '.join(after)}",
            )
        old, new = hunk_words(hunk.old), hunk_words(hunk.new)
        added, lost = new - old, old - new
        for word in list(added.elements()):
            if word in keywords:
                match = next((w for w in lost if lost[w] and near(w, word)), None)
                if match is not None:  # a misspelt keyword corrected
                    added[word] -= 1
                    lost[match] -= 1
                    continue
            translated = any(WORD_OPS.get(op) == word for op in ops(hunk.old))
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
            new_ops = Counter(ops(hunk.new)) - Counter(ops(hunk.old))
            for word, op in JS_WORD_OPS.items():
                while lost[word] and new_ops[op]:  # Python's `and` written in JavaScript
                    lost[word] -= 1
                    new_ops[op] -= 1
            if lost["elif"] and added["else"] and added["if"]:
                lost["elif"] -= 1
                added["else"] -= 1
                added["if"] -= 1
        added, lost = +added, +lost
        if set(lost) == {undefined_in(finding)} and (
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


def operators(hunks: list[Hunk], language: str, broken: str) -> Refusal | None:
    for hunk in hunks:
        old, new = ops(hunk.old), ops(hunk.new)
        if old == new or quote_only(hunk):
            continue
        if language == "python" and old == ["="] and not new:
            before = broken[max(0, hunk.old_at - 2) : hunk.old_at]
            if before in PY_LONG_OPS:
                continue  # `===` → `==`, `!==` → `!=`: the comparison the author meant
        if language == "javascript":
            spelt = {op for word, op in JS_WORD_OPS.items() if hunk_words(hunk.old)[word]}
            new = [op for op in new if op not in spelt]
            if old == new:
                continue  # Python's `and`/`or`/`not` written as JavaScript's operator
        if ":=" in new and ":=" not in old:
            wrote = " where the author wrote `=`" if "=" in old else ""
            return Refusal(
                "condition", f"it puts `:=` in the code{wrote}: an assignment, not a test"
            )
        if language == "python":
            words = hunk_words(hunk.new)
            old = [op for op in old if not (WORD_OPS.get(op) and words[WORD_OPS[op]])]
            if "".join(old) in ("&&", "||") and not new:
                old = []
        lost = Counter(old) - Counter(new)
        if "!" in lost and not lost.keys() - {"!"} and not new:
            return Refusal("condition", "it drops `!`: the test is inverted")
        if not old and not new:
            continue
        pair = ("".join(old), "".join(new))
        if pair in SWAPS[language] or pair[0] == pair[1]:
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


def early_close(hunks: list[Hunk], tokens: list[Token]) -> Refusal | None:
    """`print('{}'.format(v)` closed as `print('{}').format(v)`: the bracket goes
    before a trailer that was part of the argument. And `5(%5)` made `5%5`: a pair of
    brackets the author wrote, removed, takes a call (or a grouping) away."""
    plain = [h for h in hunks if not quote_only(h)]
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


def bloat(hunks: list[Hunk]) -> Refusal | None:
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


def bloat_lines(broken: str, candidate: str) -> Refusal | None:
    old = Counter(line.strip() for line in broken.split("\n"))
    added = sum(len(line.strip()) for line in candidate.split("\n") if not old[line.strip()])
    removed = sum(len(line.strip()) for line in broken.split("\n")) - sum(
        len(line.strip()) for line in candidate.split("\n")
    )
    if added - max(removed, 0) > ADDED_CHARS * 4:
        return Refusal("bloat", f"it adds {added} characters of new lines")
    return None
