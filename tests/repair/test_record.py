"""Every command that writes a file puts it on the record the same way
(repair/record.py): a cycle's fix, an accepted patch, a restore and a fix a
killed run left behind each get one attempt row of the same shape, the git
commit `git_commit = true` promises, a settled intent, and no cooldown left on
the file; a revert marks its attempt undone and holds that content back."""

from __future__ import annotations

from pathlib import Path

from mechanic.detect.checkers.python import PythonChecker
from mechanic.detect.discovery import Guard
from mechanic.store import AttemptRecord, Store
from mechanic.write.journal import intents_dir
from mechanic.write.transaction import apply_fix, restore_backup, sha256
from tests.support.gitrepo import BROKEN, FIXED, git, needs_git

pytestmark = needs_git


def commit(workspace, message: str) -> None:
    git(workspace, "add", ".")
    git(workspace, "commit", "-q", "-m", message)


def rows(workspace) -> dict[str, AttemptRecord]:
    """The last attempt on each file, by name."""
    with Store.open(workspace.state) as store:
        return {Path(a.path).name: a for a in reversed(store.recent_attempts(100))}


def killed_after_writing(workspace, name: str) -> None:
    """A fix of `name` written and checked by the real transaction, whose
    process then died before recording it (the intent is all that is left)."""
    target = (workspace.src / name).resolve()
    draft = AttemptRecord(str(target), "python", "SyntaxError: bad", "skipped", rung="block")
    result = apply_fix(
        target,
        original=target.read_bytes(),
        fixed=FIXED.encode(),
        checker=PythonChecker(),
        backup_dir=workspace.backups,
        guard=Guard([], [workspace.src]),
        attempt=draft.to_dict(),
    )
    assert result.outcome == "applied" and result.intent


def test_cycle_accept_restore_and_recovery_record_the_same_way_and_revert_holds_back(workspace):
    workspace.write_config(mechanic={"git_commit": True})
    for name in ("cycle.py", "accepted.py", "recovered.py"):
        workspace.file(name, BROKEN)
    workspace.file("restored.py", FIXED)
    git(workspace, "init", "-q")
    commit(workspace, "the person's work")

    # A cycle: the deterministic rung fixes cycle.py (and restored.py is seen good).
    first = workspace.run("once")
    assert first.returncode == 0, first.stderr
    # That cycle fixed the others as well: break them again, each to be fixed its own way.
    for name in ("accepted.py", "recovered.py", "restored.py"):
        workspace.file(name, BROKEN)
    commit(workspace, "broken again")

    killed_after_writing(workspace, "recovered.py")
    workspace.write_config(mechanic={"git_commit": True, "apply": "review"})
    workspace.run("once")  # recovery first, then review mode keeps a patch
    with Store.open(workspace.state) as store:
        patches = {Path(p.path).name: p.id for p in store.pending()}
    accepted = workspace.run("accept", str(patches["accepted.py"]))
    assert accepted.returncode == 0, accepted.stderr
    restored = workspace.run("restore", str(workspace.src / "restored.py"))
    assert restored.returncode == 0, restored.stderr

    found = rows(workspace)
    for name in ("cycle.py", "accepted.py", "restored.py", "recovered.py"):
        row = found[name]
        path = workspace.src / name
        assert row.outcome == "applied", (name, row.reason)
        assert row.id is not None and row.started_at > 0
        assert (row.old_sha, row.new_sha) == (sha256(BROKEN.encode()), sha256(path.read_bytes()))
        assert Path(row.backup_path).read_bytes() == BROKEN.encode(), name
        assert row.diff and "+    return sum(items)" in row.diff, name
        # The same git commit for every applied write, whoever asked for it.
        assert "; committed " in row.reason, (name, row.reason)
        assert git(workspace, "show", f"HEAD:{name}") == FIXED, name
    assert found["cycle.py"].rung == "deterministic"
    assert found["restored.py"].rung == "restore"
    assert found["recovered.py"].rung == "block"
    assert "recorded on recovery" in found["recovered.py"].reason
    assert "accepted patch" in found["accepted.py"].reason
    assert list(intents_dir(workspace.backups).iterdir()) == []  # every intent settled
    with Store.open(workspace.state) as store:
        assert store.cooldowns() == {}

    # A revert takes its attempt off the record's tally and holds the content back.
    reverted = workspace.run("revert", str(found["cycle.py"].id))
    assert reverted.returncode == 0, reverted.stderr
    assert (workspace.src / "cycle.py").read_text() == BROKEN
    with Store.open(workspace.state) as store:
        assert store.attempt(found["cycle.py"].id).undone_at is not None
        held = store.refusals(str((workspace.src / "cycle.py").resolve()), sha256(BROKEN.encode()))
        assert [r.how for r in held] == ["reverted"]


def test_a_revert_a_killed_run_finished_holds_the_content_back_like_any_revert(workspace):
    """A revert killed after it put the original back, before it was marked:
    recovery finishes its record, so the next cycle does not fix it again."""
    target = workspace.file("calc.py", BROKEN).resolve()
    assert workspace.run("once").returncode == 0
    [fix] = rows(workspace).values()
    assert fix.outcome == "applied" and target.read_text() == FIXED
    restore_backup(  # the revert's write, through the real transaction, then the kill
        target,
        backup=Path(fix.backup_path),
        expected=target.read_bytes(),
        guard=Guard([], [workspace.src]),
        backup_dir=workspace.backups,
        original_sha=fix.old_sha,
        undoes=fix.id,
    )
    assert target.read_text() == BROKEN
    again = workspace.run("once", "--json")
    assert again.returncode == 1, again.stderr  # left broken, as the person asked
    assert target.read_text() == BROKEN
    with Store.open(workspace.state) as store:
        assert store.attempt(fix.id).undone_at is not None
        held = store.refusals(str(target), sha256(BROKEN.encode()))
        assert [(r.how, r.attempt_id) for r in held] == [("reverted", fix.id)]
    assert list(intents_dir(workspace.backups).iterdir()) == []
