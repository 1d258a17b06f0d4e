"""`git_commit = true`: each applied fix becomes its own commit.

Only mechanic's own change is ever committed. The fix is committed only when
the file held exactly its last committed version (HEAD) before the fix and the
person has nothing staged for it, so the commit is the fix and nothing else;
`git commit --only -- FILE` leaves every other change of the person, staged or
not, where it was. Hooks are skipped (--no-verify): a hook that reformats files
would write user files outside the transaction. When a fix cannot be committed
alone, it stays applied and uncommitted, and the reason says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from mechanic.files.hashing import sha256
from mechanic.files.userfile import read_regular
from mechanic.plural import plural

IDENTITY = {
    "GIT_AUTHOR_NAME": "mechanic",
    "GIT_AUTHOR_EMAIL": "mechanic@localhost",
    "GIT_COMMITTER_NAME": "mechanic",
    "GIT_COMMITTER_EMAIL": "mechanic@localhost",
}


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        timeout=30,
        check=False,
        # Literal pathspecs: a file named `*.py` or `:(glob)x` names only itself.
        env={**os.environ, **IDENTITY, "GIT_TERMINAL_PROMPT": "0", "GIT_LITERAL_PATHSPECS": "1"},
    )


def commit_fix(record, config) -> str:
    """Commit the fix `record` applied; returns what happened, for its reason."""
    path = Path(record.path)
    if shutil.which("git") is None:
        return "not committed: git is not installed"
    found = _git(["rev-parse", "--show-toplevel"], path.parent)
    if found.returncode != 0:
        return "not committed: not in a git work tree"
    top = Path(os.path.realpath(found.stdout.decode().strip()))
    rel = Path(os.path.realpath(path)).relative_to(top).as_posix()
    head = _git(["show", f"HEAD:{rel}"], top)
    if head.returncode != 0:
        return "not committed: the file is not in the last commit"
    if sha256(head.stdout) != record.old_sha:
        return "not committed: the file also had uncommitted changes of yours"
    if _git(["diff", "--cached", "--quiet", "--", rel], top).returncode != 0:
        return "not committed: you have staged changes to this file"
    try:
        if sha256(read_regular(path)) != record.new_sha:
            return "not committed: the file changed after the fix"
    except OSError as exc:
        return f"not committed: cannot read the file: {exc.strerror or exc}"
    done = _git(
        ["commit", "--only", "--no-verify", "-q", "-m", message(record, config, rel), "--", rel],
        top,
    )
    if done.returncode != 0:
        error = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
        return f"not committed: git commit failed: {error[-1] if error else done.returncode}"
    head_sha = _git(["rev-parse", "--short", "HEAD"], top).stdout.decode().strip()
    return f"committed {head_sha}"


def message(record, config, rel: str) -> str:
    """What was broken, what changed, which rung and model fixed it, the tokens
    spent and what validated it; then the diff."""
    rung = getattr(record, "rung", None) or (
        "deterministic" if record.backend == "deterministic" else config.repair.mode
    )
    model = "no model" if not record.model else f"{record.backend} model {record.model}"
    tokens = (
        f"{record.prompt_tokens} prompt + {record.answer_tokens or 0} answer"
        if record.prompt_tokens is not None
        else "none"
    )
    diff = record.diff or ""
    removed = sum(1 for line in diff.splitlines() if line.startswith("-") and line[:3] != "---")
    added = sum(1 for line in diff.splitlines() if line.startswith("+") and line[:3] != "+++")
    checks = record.reason.split("; ", 1)
    extra = f"; {checks[1]}" if len(checks) > 1 else ""
    summary = record.error.splitlines()[0][:60] if record.error else "a broken file"
    return (
        f"mechanic: fix {rel}: {summary}\n\n"
        f"What was broken: {record.error}\n"
        f"What changed: {plural(removed, 'line')} removed, {added} added\n"
        f"Fixed by: the {rung} rung, {model}\n"
        f"Tokens: {tokens}\n"
        f"Validated by: the {record.language} checker, in memory and again on disk{extra}\n\n"
        f"{diff}"
    )
