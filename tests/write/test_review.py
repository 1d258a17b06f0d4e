"""Review mode end to end: a validated fix waits as a pending patch; a person
lists it, accepts it through the same transaction, or rejects it."""

from __future__ import annotations

import sqlite3

from mechanic.store import AttemptRecord, Store

BROKEN = "def total(items):\n    return sum(items\n\n\nprint(total([1, 2]))\n"
FIXED = BROKEN.replace("sum(items\n", "sum(items)\n")
MODEL_ONLY = "[repair]\ndeterministic = false\n"


def review_workspace(workspace, standin, **mechanic):
    workspace.write_config(
        mechanic={"apply": "review", "file_cooldown_hours": 0, **mechanic},
        llm={"backend": "ollama", "host": standin.url},
        raw=MODEL_ONLY,
    )
    standin.reply(FIXED)
    return workspace.file("calc.py", BROKEN)


def test_a_fix_waits_for_review_and_is_applied_on_accept(workspace, ollama_standin):
    path = review_workspace(workspace, ollama_standin)
    once = workspace.run("once", "--json")
    attempt = once.attempts()["calc.py"]
    assert attempt["outcome"] == "pending"
    assert "kept for review" in attempt["reason"]
    assert path.read_text() == BROKEN
    assert workspace.backups_of("calc.py") == []

    assert workspace.run("status", "--json").json["pending_patches"] == 1
    assert "1 fix waiting for review" in workspace.run("status").stdout
    listed = workspace.run("pending")
    assert "#1  calc.py" in listed.stdout
    assert "-    return sum(items" in listed.stdout and "+    return sum(items)" in listed.stdout
    assert workspace.run("pending", "--json").json[0]["status"] == "pending"

    # While it waits, the file is not sent again.
    again = workspace.run("once", "--json")
    assert "awaits review: mechanic accept 1" in again.json["held"][0]["reason"]
    assert ollama_standin.inference_count == 1

    accepted = workspace.run("accept", "1")
    assert accepted.returncode == 0, accepted.stderr
    assert path.read_text() == FIXED
    assert [b.read_text() for b in workspace.backups_of("calc.py")] == [BROKEN]
    assert workspace.run("pending").stdout.strip() == "no fixes are waiting for review"
    assert "already accepted" in workspace.run("accept", "1").stderr

    # An accepted fix is an applied attempt like any other: it can be reverted.
    attempt_id = accepted.stdout.split("attempt #")[1].split(")")[0]
    assert workspace.run("revert", attempt_id).returncode == 0
    assert path.read_text() == BROKEN


def test_accept_refuses_a_file_changed_since_the_patch(workspace, ollama_standin):
    path = review_workspace(workspace, ollama_standin)
    workspace.run("once")
    mine = "def total(items):\n    return sum(items)  # fixed it myself\n"
    path.write_text(mine)
    accepted = workspace.run("accept", "1")
    assert accepted.returncode == 1
    assert "changed since patch #1" in accepted.stderr
    assert path.read_text() == mine


def test_a_file_changed_since_its_patch_is_attempted_again(workspace, ollama_standin):
    path = review_workspace(workspace, ollama_standin)
    workspace.run("once")
    path.write_text(BROKEN.replace("print(total([1, 2]))", "print(total([3]))"))
    ollama_standin.reply(FIXED.replace("print(total([1, 2]))", "print(total([3]))"))
    again = workspace.run("once", "--json").attempts()["calc.py"]
    assert again["outcome"] == "pending"
    assert ollama_standin.inference_count == 2
    assert [p["id"] for p in workspace.run("pending", "--json").json] == [1, 2]
    assert "changed since patch #1" in workspace.run("accept", "1").stderr


def test_reject_drops_the_patch_and_leaves_the_file(workspace, ollama_standin):
    path = review_workspace(workspace, ollama_standin)
    workspace.run("once")
    patch = workspace.run("pending", "--json").json[0]
    rejected = workspace.run("reject", "1")
    assert rejected.returncode == 0
    assert path.read_text() == BROKEN
    assert workspace.run("pending", "--json").json == []
    assert "already rejected" in workspace.run("accept", "1").stderr
    assert not __import__("pathlib").Path(patch["fix_file"]).exists()
    assert "no pending patch #7" in workspace.run("reject", "7").stderr


def test_the_zero_token_rung_waits_for_review_too(workspace):
    workspace.write_config(mechanic={"apply": "review"})  # backend none: no model at all
    path = workspace.file("calc.py", BROKEN)
    attempt = workspace.run("once", "--json").attempts()["calc.py"]
    assert attempt["outcome"] == "pending"
    assert attempt["backend"] == "deterministic"
    assert path.read_text() == BROKEN
    assert workspace.run("accept", "1").returncode == 0
    assert path.read_text() == FIXED


def test_an_older_store_learns_the_pending_outcome_and_keeps_its_history(tmp_path):
    old = tmp_path / "mechanic.sqlite3"
    db = sqlite3.connect(old)
    db.executescript(
        "CREATE TABLE attempts (id INTEGER PRIMARY KEY, cycle_id INTEGER, started_at REAL NOT"
        " NULL, path TEXT NOT NULL, language TEXT NOT NULL, error TEXT NOT NULL, backend TEXT,"
        " model TEXT, prompt_tokens INTEGER, answer_tokens INTEGER, duration_s REAL, outcome"
        " TEXT NOT NULL CHECK (outcome IN ('applied','reverted','rejected','skipped')),"
        " reason TEXT, backup_path TEXT, diff TEXT, old_sha TEXT, new_sha TEXT, undone_at REAL);"
        "INSERT INTO attempts (started_at, path, language, error, outcome)"
        " VALUES (1, '/x.py', 'python', 'e', 'applied');"
    )
    db.commit()
    db.close()
    with Store.open(tmp_path) as store:
        assert store.attempt(1).outcome == "applied"
        store.record_attempt(AttemptRecord("/y.py", "python", "e", "pending"))
        assert [a.outcome for a in store.recent_attempts()] == ["pending", "applied"]
