"""What the model is asked ("whole" mode: seed 003's full-file protocol).

The file is never truncated: seed 003 cut code at 6,000 characters yet asked
for the complete file, so every longer file lost its tail. A file whose prompt
and answer cannot both fit the model's context is not sent at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mechanic.checkers.base import Finding

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
) -> Prompt:
    """The prompt for a full-file repair, or DoesNotFit when it cannot be sent whole."""
    template = RUNTIME_SYSTEM if finding.kind == "runtime" else SYSTEM
    system = template.format(language=LANGUAGE_NAMES.get(finding.language, finding.language))
    user = USER.format(name=name, error=error_text(finding), code=code)
    prompt_tokens = count_tokens(system) + count_tokens(user) + 16  # chat template overhead
    needed = int(count_tokens(code) * ANSWER_SLACK) + ANSWER_MARGIN_TOKENS
    if prompt_tokens + needed > context_tokens:
        raise DoesNotFit(
            f"the file needs about {prompt_tokens + needed} tokens to be sent and returned"
            f" whole, more than the model's context of {context_tokens} (llm.num_ctx)"
        )
    # A whole-file answer is about as long as the file: far beyond that, the
    # model is rambling, and stopping it early ends in a "cut off" rejection
    # instead of minutes of generation.
    limit = min(context_tokens - prompt_tokens, 2 * count_tokens(code) + 256)
    return Prompt(system, user, prompt_tokens, limit)
