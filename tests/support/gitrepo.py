"""A real git repository in a workspace's watch root, for the git_commit tests."""

from __future__ import annotations

import os
import subprocess

import pytest

needs_git = pytest.mark.skipif(
    subprocess.run(["git", "--version"], capture_output=True).returncode != 0,
    reason="git is not installed",
)

BROKEN = "def total(items):\n    return sum(items\n\n\nprint(total([1, 2]))\n"
FIXED = BROKEN.replace("sum(items\n", "sum(items)\n")
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Pat",
    "GIT_AUTHOR_EMAIL": "pat@example.com",
    "GIT_COMMITTER_NAME": "Pat",
    "GIT_COMMITTER_EMAIL": "pat@example.com",
}


def git(workspace, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=workspace.src, capture_output=True, text=True, env=ENV, check=True
    )
    return done.stdout
