"""What the model is asked ("whole" mode: seed 003's full-file protocol).

The file is never truncated: seed 003 cut code at 6,000 characters yet asked
for the complete file, so every longer file lost its tail. A file whose prompt
and answer cannot both fit the model's context is not sent at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mechanic.detect.checkers.base import Finding

if TYPE_CHECKING:
    from mechanic.store import RememberedFix

LANGUAGE_NAMES = {
    "python": "Python",
    "javascript": "JavaScript (Node.js)",
    "shell": "Bash",
    "json": "JSON",
    "toml": "TOML",
}

SYSTEM = (
    "You repair broken source files. You receive one {language} file that fails its"
    " syntax check and the checker's error. Fix only what makes the file invalid and keep"
    " every other line exactly as it is: same names, same comments, same formatting."
    " Do not add dependencies. Do not change exports.\n"
    "Return ONLY the complete fixed file content. No explanation. No markdown."
    " No placeholders such as '... rest of code ...': every line of the file must be in"
    " your answer."
)

# A file that parses but crashed: the error comes from its log, not a checker.
RUNTIME_SYSTEM = (
    "You repair source files. You receive one {language} file that parses but crashed at"
    " run time, and the error from its log with the line it points at. Fix the cause of"
    " that error with the smallest change and keep every other line exactly as it is:"
    " same names, same comments, same formatting. Do not add dependencies. Do not change"
    " exports. Do not delete the failing code or silence the error.\n"
    "Return ONLY the complete fixed file content. No explanation. No markdown."
    " No placeholders such as '... rest of code ...': every line of the file must be in"
    " your answer."
)

USER = "FILE: {name}\nERROR: {error}\nCODE:\n{code}"

# Room the answer needs beyond the file itself: a fix may add a few tokens.
ANSWER_SLACK = 1.15
ANSWER_MARGIN_TOKENS = 64


@dataclass(frozen=True)
class Prompt:
    system: str
    user: str
    prompt_tokens: int
    max_answer_tokens: int


class DoesNotFit(ValueError):
    """The file is too long for the model's context in this repair mode."""


def error_text(finding: Finding) -> str:
    where = []
    if finding.line is not None:
        where.append(f"line {finding.line}")
    if finding.column is not None:
        where.append(f"column {finding.column}")
    suffix = f" ({', '.join(where)})" if where else ""
    return f"{finding.message}{suffix}"


def build_whole_file_prompt(
    *,
    name: str,
    code: str,
    finding: Finding,
    context_tokens: int,
    count_tokens: Callable[[str], int],
    examples: str = "",
    comfort: float = 1.0,
) -> Prompt:
    """The prompt for a full-file repair, or DoesNotFit when it cannot be sent whole
    within `comfort` (a share) of the model's context."""
    template = RUNTIME_SYSTEM if finding.kind == "runtime" else SYSTEM
    system = template.format(language=LANGUAGE_NAMES.get(finding.language, finding.language))
    user = USER.format(name=name, error=error_text(finding), code=code)
    if examples:
        user = examples + user
    prompt_tokens = count_tokens(system) + count_tokens(user) + 16  # chat template overhead
    needed = int(count_tokens(code) * ANSWER_SLACK) + ANSWER_MARGIN_TOKENS
    if prompt_tokens + needed > context_tokens * comfort:
        share = "" if comfort >= 1 else f" {comfort:.0%} of"
        raise DoesNotFit(
            f"the file needs about {prompt_tokens + needed} tokens to be sent and returned"
            f" whole, more than{share} the model's context of {context_tokens} (llm.num_ctx)"
        )
    # A whole-file answer is about as long as the file: far beyond that, the
    # model is rambling, and stopping it early ends in a "cut off" rejection
    # instead of minutes of generation.
    limit = min(context_tokens - prompt_tokens, 2 * count_tokens(code) + 256)
    return Prompt(system, user, prompt_tokens, limit)


# --- "block" mode: only the unit around the error ---------------------------

BLOCK_SYSTEM = (
    "You repair one broken block of a {language} file. You receive the block, the"
    " checker's error, and for reference only the file's imports and the names it"
    " defines. Fix only what makes the block invalid and keep every other line exactly as"
    " it is: same names, same comments, same indentation. Do not add dependencies.\n"
    "Return ONLY the fixed block, from its first line to its last line: nothing before it,"
    " nothing after it, no other functions. No explanation. No markdown. No placeholders."
)

# A block of a file that parses but crashed: the error comes from its log.
RUNTIME_BLOCK_SYSTEM = (
    "You repair one block of a {language} file that parses but crashed at run time. You"
    " receive the block, the error from the log with the line it points at, and for"
    " reference only the file's imports and the names it defines. Fix the cause of that"
    " error with the smallest change and keep every other line exactly as it is. Do not"
    " delete the failing code or silence the error. Do not add dependencies.\n"
    "Return ONLY the fixed block, from its first line to its last line: nothing before it,"
    " nothing after it, no other functions. No explanation. No markdown. No placeholders."
)

BLOCK_USER = (
    "FILE: {name} ({total} lines; the block is lines {first}-{last})\n"
    "ERROR: {error}{at}\n"
    "{context}"
    "BLOCK:\n{block}"
)


def build_block_prompt(
    *,
    name: str,
    block_text: str,
    first_line: int,
    total_lines: int,
    error_line_text: str | None,
    finding: Finding,
    imports: list[str],
    names: list[str],
    examples: str = "",
    context_tokens: int,
    count_tokens: Callable[[str], int],
) -> Prompt:
    """The prompt for a block repair (`first_line` is 1-based), or DoesNotFit."""
    template = RUNTIME_BLOCK_SYSTEM if finding.kind == "runtime" else BLOCK_SYSTEM
    system = template.format(language=LANGUAGE_NAMES.get(finding.language, finding.language))
    context = ""
    if imports:
        context += "IMPORTS (not part of the block):\n" + "\n".join(imports) + "\n"
    if names:
        context += "NAMES DEFINED ELSEWHERE IN THE FILE: " + ", ".join(names) + "\n"
    if examples:
        context += examples
    at = f"\nTHE ERROR IS ON THIS LINE: {error_line_text.strip()}" if error_line_text else ""
    block_lines = block_text.count("\n") + 1
    user = BLOCK_USER.format(
        name=name,
        total=total_lines,
        first=first_line,
        last=first_line + block_lines - 1,
        error=error_text(finding),
        at=at,
        context=context,
        block=block_text,
    )
    prompt_tokens = count_tokens(system) + count_tokens(user) + 16
    block_tokens = count_tokens(block_text)
    needed = int(block_tokens * ANSWER_SLACK) + ANSWER_MARGIN_TOKENS
    if prompt_tokens + needed > context_tokens:
        raise DoesNotFit(
            f"even the block needs about {prompt_tokens + needed} tokens, more than the"
            f" model's context of {context_tokens} (llm.num_ctx)"
        )
    limit = min(context_tokens - prompt_tokens, 2 * block_tokens + 128)
    return Prompt(system, user, prompt_tokens, limit)


def format_examples(examples: list[RememberedFix], *, max_lines: int = 12) -> str:
    """Past fixes in this file or project, shown to the model as a pattern."""
    parts = []
    for example in examples:
        before, after = example.before, example.after
        if before.count("\n") >= max_lines or after.count("\n") >= max_lines:
            continue
        parts.append(f"ERROR: {example.error}\nBROKEN:\n{before}\nFIXED:\n{after}\n")
    if not parts:
        return ""
    return "EARLIER FIXES IN THIS PROJECT (examples, not part of the block):\n" + "".join(parts)
