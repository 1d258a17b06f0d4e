"""`git_commit = true`: each applied fix is its own commit, holding that file
alone, with a message that says what was broken, what changed, which rung and
model fixed it, the tokens spent and what validated it. The person's other
changes, staged or not, are never committed."""

from __future__ import annotations

import pytest

from tests.support.gitrepo import BROKEN, FIXED, git, needs_git

pytestmark = needs_git


@pytest.fixture
def repo(workspace, ollama_standin):
    workspace.write_config(
        mechanic={"git_commit": True},
        llm={"backend": "ollama", "host": ollama_standin.url},
        raw="[repair]\ndeterministic = false\n",
    )
    workspace.file("calc.py", BROKEN)
    workspace.file("notes.py", "NOTES = 1\n")
    workspace.file("staged.py", "STAGED = 1\n")
    git(workspace, "init", "-q")
    git(workspace, "add", ".")
    git(workspace, "commit", "-q", "-m", "the person's work")
    # The person's work in progress: one change staged, one not.
    workspace.file("staged.py", "STAGED = 2\n")
    git(workspace, "add", "staged.py")
    workspace.file("notes.py", "NOTES = 2\n")
    ollama_standin.reply(FIXED)
    workspace.ollama_reply = ollama_standin.reply
    return workspace


def test_an_applied_fix_is_its_own_commit_and_nothing_else_is(repo):
    attempt = repo.run("once", "--json").attempts()["calc.py"]
    assert attempt["outcome"] == "applied"
    assert "committed" in attempt["reason"]
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["calc.py"]
    message = git(repo, "log", "-1", "--format=%an%n%B")
    assert message.startswith("mechanic\nmechanic: fix calc.py: SyntaxError")
    assert "What was broken: SyntaxError: '(' was never closed" in message
    assert "What changed: 1 line removed, 1 added" in message
    assert "Fixed by: the whole rung, ollama model qwen2.5-coder:7b" in message
    assert "Tokens: " in message and " prompt + " in message
    assert "Validated by: the python checker, in memory and again on disk" in message
    assert "+    return sum(items)" in message
    # The person's changes are where they left them.
    assert git(repo, "diff", "--cached", "--name-only").split() == ["staged.py"]
    assert git(repo, "diff", "--name-only").split() == ["notes.py"]
    assert git(repo, "show", "HEAD:calc.py") == FIXED
    assert git(repo, "show", "HEAD:staged.py") == "STAGED = 1\n"


def test_a_file_with_uncommitted_changes_of_the_person_is_fixed_but_not_committed(repo):
    path = repo.src / "calc.py"
    path.write_text(BROKEN.replace("print(total([1, 2]))", "print(total([3]))"))
    # The answer fixes the file as it is now: one that also undid the person's
    # `[3]` would be refused by the meaning guard.
    repo.ollama_reply(FIXED.replace("print(total([1, 2]))", "print(total([3]))"))
    head = git(repo, "rev-parse", "HEAD")
    attempt = repo.run("once", "--json").attempts()["calc.py"]
    assert attempt["outcome"] == "applied"
    assert "not committed: the file also had uncommitted changes of yours" in attempt["reason"]
    assert git(repo, "rev-parse", "HEAD") == head


def test_an_accepted_review_patch_is_committed(repo):
    text = repo.config_path.read_text().replace(
        "git_commit = true", 'git_commit = true\napply = "review"'
    )
    repo.config_path.write_text(text)
    assert repo.run("once", "--json").attempts()["calc.py"]["outcome"] == "pending"
    head = git(repo, "rev-parse", "HEAD")
    accepted = repo.run("accept", "1")
    assert accepted.returncode == 0, accepted.stderr
    assert "committed" in accepted.stdout
    assert git(repo, "rev-parse", "HEAD^") == head
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["calc.py"]


def test_outside_a_git_work_tree_the_fix_is_applied_and_says_so(workspace, ollama_standin):
    workspace.write_config(
        mechanic={"git_commit": True},
        llm={"backend": "ollama", "host": ollama_standin.url},
        raw="[repair]\ndeterministic = false\n",
    )
    workspace.file("calc.py", BROKEN)
    ollama_standin.reply(FIXED)
    env = {"GIT_CEILING_DIRECTORIES": str(workspace.root.parent)}
    attempt = workspace.run("once", "--json", env=env).attempts()["calc.py"]
    assert attempt["outcome"] == "applied"
    assert "not committed: not in a git work tree" in attempt["reason"]


def test_a_file_named_like_a_pathspec_commits_only_itself(workspace):
    """`:!c.py` is a name, not git's "everything but c.py": the person's unstaged
    `notes.py` stays out of mechanic's commit."""
    workspace.write_config(mechanic={"git_commit": True})  # backend none: the zero-token rung
    workspace.file(":!c.py", BROKEN)
    workspace.file("notes.py", "NOTES = 1\n")
    git(workspace, "init", "-q")
    git(workspace, "add", ".")
    git(workspace, "commit", "-q", "-m", "the person's work")
    workspace.file("notes.py", "NOTES = 2  # the person's unfinished idea\n")
    attempt = workspace.run("once", "--json").attempts()[":!c.py"]
    assert attempt["outcome"] == "applied"
    assert "committed" in attempt["reason"], attempt["reason"]
    assert git(workspace, "show", "--name-only", "--format=", "HEAD").split() == [":!c.py"]
    assert git(workspace, "status", "--porcelain").split() == ["M", "notes.py"]
