"""The `mechanic` command's other verbs: check, status, log, protect, revert."""

from __future__ import annotations

import fcntl
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mechanic.config.load import load_config
from tests.support.ollama_standin import Reply


def user_protected(workspace) -> tuple[str, ...]:
    """The protected patterns the user wrote (after the visible defaults)."""
    settings = load_config(workspace.config_path).mechanic
    return settings.protected[len(settings.default_protected) :]


BROKEN = "def f(:\n    return 1\n"
FIXED = "def f():\n    return 1\n"


def test_once_exits_0_when_nothing_is_broken(workspace):
    workspace.file("ok.py", "x = 1\n")
    result = workspace.run("once", "--json")
    assert result.returncode == 0
    assert result.json["remaining"] == [] and result.json["files"] == 1


def test_a_usage_error_exits_2(workspace):
    assert workspace.run("once", "--no-such-flag").returncode == 2
    assert workspace.run("frobnicate").returncode == 2


def test_check_lists_findings_and_repairs_nothing(workspace):
    path = workspace.file("lib/bad.py", BROKEN)
    workspace.file("good.py", "x = 1\n")
    result = workspace.run("check")
    assert result.returncode == 1
    assert "lib/bad.py:1:7: [python] SyntaxError" in result.stdout
    assert path.read_text() == BROKEN
    as_json = workspace.run("check", "--json").json
    assert [(f["file"], f["line"]) for f in as_json] == [(str(path), 1)]


def test_status_shows_totals_recent_attempts_and_cooldowns(workspace, ollama_standin):
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    workspace.file("a.py", BROKEN)
    ollama_standin.reply(Reply(FIXED, prompt_eval_count=100, eval_count=20))
    workspace.run("once")
    status = workspace.run("status", "--json").json
    assert status["totals"]["applied"] == 1
    assert status["totals"]["tokens"]["prompt"] == 100
    assert status["last_cycle"]["applied"] == 1
    assert status["recent_attempts"][0]["outcome"] == "applied"
    assert status["cooldowns"] == []  # a fix is no reason to wait
    workspace.file("b.py", "def g(x:\n    return x\n")  # not a.py's remembered fault
    ollama_standin.reply("no idea")  # a failed try cools b.py down
    workspace.run("once")
    status = workspace.run("status", "--json").json
    assert [Path(c["file"]).name for c in status["cooldowns"]] == ["b.py"]
    human = workspace.run("status")
    assert human.returncode == 0
    assert "applied 1" in human.stdout
    assert "a.py" in human.stdout and "in cooldown" in human.stdout


def test_status_before_any_cycle_says_what_to_do(workspace):
    assert "mechanic once" in workspace.run("status").stdout


def test_log_prints_the_last_events_readably(workspace):
    workspace.write_config(repair={"deterministic": False})  # leave a.py broken
    workspace.file("a.py", BROKEN)
    workspace.run("once")
    result = workspace.run("log", "-n", "2")
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert "cycle.done" in lines[-1] and "remaining=1" in lines[-1]
    assert not lines[-1].startswith("{")  # readable, not raw JSON


def test_log_follow_prints_new_events_as_they_come(workspace):
    workspace.run("once")
    command = [sys.executable, "-m", "mechanic", "log", "-f", "-n", "0"]
    command += ["--config", str(workspace.config_path)]
    follower = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=workspace.root)
    try:
        time.sleep(1.5)
        workspace.run("once")
        line = follower.stdout.readline()
        assert "cycle.start" in line
    finally:
        follower.kill()
        follower.wait()


def _line_within(stream, seconds: float) -> str:
    ready, _, _ = select.select([stream], [], [], seconds)
    assert ready, f"no line within {seconds:g}s"
    return stream.readline()


def test_log_follow_reads_a_log_rewritten_in_place_from_its_start(workspace):
    """Truncated and rewritten past its old length, the log keeps its inode and
    grows: only its first bytes tell it is new, and it is shown from line one."""
    workspace.run("once")
    log_path = Path(workspace.state) / "mechanic.log"
    command = [sys.executable, "-m", "mechanic", "log", "-f", "-n", "1"]
    command += ["--config", str(workspace.config_path)]
    follower = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=workspace.root)
    try:
        assert "cycle.done" in _line_within(follower.stdout, 60)  # it is following now
        time.sleep(1)
        size = log_path.stat().st_size
        with open(log_path, "r+") as handle:  # same file, same inode
            handle.truncate(0)
            handle.write("rewritten: the first line\n" + "padding\n" * (size // 8 + 10))
        assert _line_within(follower.stdout, 60).strip() == "rewritten: the first line"
    finally:
        follower.kill()
        follower.wait()


def test_protect_edits_the_list_and_keeps_comments(workspace):
    workspace.config_path.write_text(
        "# my notes about this config\n"
        "[mechanic]\n"
        'state_dir = "state"  # keep state here\n'
        'protected = ["core.js"]  # never touch these\n'
        "\n[[watch]]\n"
        'path = "src"\n'
    )
    assert workspace.run("protect", "add", "lib/*.py").returncode == 0
    text = workspace.config_path.read_text()
    assert "# my notes about this config" in text
    assert "# keep state here" in text and "# never touch these" in text
    assert user_protected(workspace) == ("core.js", "lib/*.py")
    listed = workspace.run("protect", "list").stdout.split()
    assert listed == ["core.js", "lib/*.py"]
    assert "already protected" in workspace.run("protect", "add", "core.js").stdout
    assert workspace.run("protect", "remove", "core.js").returncode == 0
    assert user_protected(workspace) == ("lib/*.py",)
    assert "# never touch these" in workspace.config_path.read_text()


def test_protect_creates_the_list_when_there_is_none(workspace):
    workspace.config_path.write_text('[[watch]]\npath = "src"\n')
    assert workspace.run("protect", "add", "secret.py").returncode == 0
    assert user_protected(workspace) == ("secret.py",)


def test_protect_refuses_a_bad_pattern_and_leaves_the_config_alone(workspace):
    before = workspace.config_path.read_bytes()
    result = workspace.run("protect", "add", "  ")
    assert result.returncode == 2
    assert "mechanic.protected" in result.stderr
    assert workspace.config_path.read_bytes() == before


def test_a_protected_pattern_added_by_the_cli_is_honoured_next_cycle(workspace, ollama_standin):
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    workspace.file("a.py", BROKEN)
    workspace.run("protect", "add", "a.py")
    ollama_standin.reply(FIXED)
    result = workspace.run("once", "--json")
    assert ollama_standin.requests == []
    assert "protected" in result.json["held"][0]["reason"]


@pytest.fixture
def applied(workspace, ollama_standin):
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    path = workspace.file("a.py", BROKEN)
    ollama_standin.reply(FIXED)
    attempt = workspace.run("once", "--json").attempts()["a.py"]
    assert attempt["outcome"] == "applied"
    return path, attempt["id"]


def test_revert_restores_the_original_bytes(workspace, applied):
    path, attempt = applied
    result = workspace.run("revert", str(attempt))
    assert result.returncode == 0, result.stderr
    assert path.read_text() == BROKEN
    assert workspace.run("status", "--json").json["recent_attempts"][0]["undone"]
    again = workspace.run("revert", str(attempt))
    assert again.returncode == 1 and "already reverted" in again.stderr


def test_revert_refuses_when_the_file_changed_since(workspace, applied):
    path, attempt = applied
    path.write_text("def f():\n    return 2  # edited after the fix\n")
    result = workspace.run("revert", str(attempt))
    assert result.returncode == 1
    assert "changed since" in result.stderr
    assert path.read_text() == "def f():\n    return 2  # edited after the fix\n"


def test_revert_of_an_unknown_attempt_is_a_clear_error(workspace):
    workspace.run("once")
    result = workspace.run("revert", "42")
    assert result.returncode == 1 and "no attempt #42" in result.stderr


def test_two_cycles_never_run_at_once(workspace):
    workspace.state.mkdir()
    with open(workspace.state / "cycle.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242")
        held.flush()
        result = workspace.run("once")
        check = workspace.run("check")
    # Its own exit code: "busy, nothing judged" is not "broken files remain" (1).
    assert result.returncode == check.returncode == 3
    assert "another mechanic cycle is running (pid 4242)" in result.stderr


def test_shell_json_and_toml_are_checked_when_included(workspace):
    workspace.write_config(watch={"include": ["**/*.sh", "**/*.json", "**/*.toml"]})
    workspace.file("deploy.sh", "if true; then\n  echo hi\n")
    workspace.file("package.json", '{"name": "x",}\n')
    workspace.file("pyproject.toml", "[tool]\nx = = 1\n")
    workspace.file("ok.json", "{}\n")
    found = {f["language"]: f for f in workspace.run("check", "--json").json}
    assert set(found) == {"shell", "json", "toml"}
    assert found["json"]["line"] == 1 and found["toml"]["line"] == 2
