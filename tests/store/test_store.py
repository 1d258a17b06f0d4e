"""The record: attempts, cooldowns, totals; a broken store is a clear error."""

from __future__ import annotations

import sqlite3
import time

import pytest

from mechanic.errors import StoreError
from mechanic.store import AttemptRecord, Store


def test_attempts_are_recorded_and_totalled(tmp_path):
    with Store.open(tmp_path) as store:
        cycle = store.start_cycle(dry_run=False)
        first = store.record_attempt(
            AttemptRecord(
                path="/a.py",
                language="python",
                error="e",
                outcome="applied",
                prompt_tokens=10,
                answer_tokens=5,
                cycle_id=cycle,
            )
        )
        store.record_attempt(
            AttemptRecord(
                path="/b.py",
                language="python",
                error="e",
                outcome="rejected",
                reason="empty",
                prompt_tokens=7,
                answer_tokens=0,
                cycle_id=cycle,
            )
        )
        store.finish_cycle(cycle, attempts=2, applied=1)
        totals = store.totals()
        assert (totals.applied, totals.rejected, totals.attempts) == (1, 1, 2)
        assert (totals.prompt_tokens, totals.answer_tokens) == (17, 5)
        assert store.attempt(first).path == "/a.py"
        assert store.last_cycle().applied == 1


def test_an_unknown_outcome_is_refused(tmp_path):
    with Store.open(tmp_path) as store, pytest.raises(ValueError):
        store.record_attempt(AttemptRecord("/a", "python", "e", outcome="maybe"))


def test_cooldowns_expire(tmp_path):
    with Store.open(tmp_path) as store:
        store.set_cooldown("/a.py", time.time() + 60, None)
        store.set_cooldown("/b.py", time.time() - 1, None)
        assert set(store.cooldowns()) == {"/a.py"}


def test_a_corrupt_store_is_a_clear_error(tmp_path):
    (tmp_path / "mechanic.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=r"mechanic\.sqlite3"):
        Store.open(tmp_path)


def test_a_state_folder_that_cannot_be_created_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="state folder"):
        Store.open(tmp_path / "file" / "state")


def test_a_store_from_an_older_mechanic_gains_new_columns_and_keeps_its_rows(tmp_path):
    # An attempts table as the first release made it: no rung, and a CHECK that
    # refuses "pending"; the steps from before numbered migrations add the rest.
    db = sqlite3.connect(tmp_path / "mechanic.sqlite3")
    db.executescript(
        "CREATE TABLE attempts (id INTEGER PRIMARY KEY, cycle_id INTEGER,"
        " started_at REAL NOT NULL, path TEXT NOT NULL, language TEXT NOT NULL,"
        " error TEXT NOT NULL, backend TEXT, model TEXT, prompt_tokens INTEGER,"
        " answer_tokens INTEGER, duration_s REAL, outcome TEXT NOT NULL CHECK"
        " (outcome IN ('applied','reverted','rejected','skipped')), reason TEXT,"
        " backup_path TEXT, diff TEXT, old_sha TEXT, new_sha TEXT, undone_at REAL);"
        "INSERT INTO attempts (started_at, path, language, error, outcome)"
        " VALUES (1.0, '/a.py', 'python', 'e', 'applied');"
    )
    db.close()
    with Store.open(tmp_path) as store:
        assert [a.path for a in store.recent_attempts()] == ["/a.py"]
        columns = {row[1] for row in store._db.execute("PRAGMA table_info(attempts)")}
        store.record_attempt(AttemptRecord("/b.py", "python", "e", "pending"))
    assert "rung" in columns


def test_only_unfinished_cycles_are_closed_with_the_reason(tmp_path):
    with Store.open(tmp_path / "state") as store:
        done = store.start_cycle(dry_run=False)
        store.finish_cycle(done, files_seen=1, applied=0)
        stopped = store.start_cycle(dry_run=False)
        assert store.finish_unfinished_cycles("abandoned: x") == [stopped]
        assert store.finish_unfinished_cycles("abandoned: x") == []  # once only
        last = store.last_cycle()
        assert last.id == stopped and last.finished_at and last.error == "abandoned: x"


def test_an_insert_that_adds_no_row_is_an_error_not_an_id(tmp_path):
    # sqlite3 leaves lastrowid at 0 (or the previous row's ID) when nothing was
    # inserted: taking it for the new row's ID would hand out an ID no row has.
    with Store.open(tmp_path) as store:
        store.start_cycle(dry_run=False)
        with pytest.raises(StoreError, match=r"added no row \(INSERT INTO cycles\)") as caught:
            store._db.insert("INSERT INTO cycles (started_at, dry_run) SELECT 1, 0 WHERE 0")
        assert str(tmp_path) in str(caught.value)
        assert store.start_cycle(dry_run=False) == 2  # the store goes on as before


def test_file_names_of_any_bytes_are_kept_exactly(tmp_path):
    """SQLite's TEXT must be UTF-8; a name that is not comes back byte for byte."""
    import os

    from mechanic.store import FileState

    names = [os.fsdecode(b"/w/ok\xff.py"), "/w/new\nline.py", "/w/\u00e9t\u00e9.py", "/w/plain.py"]
    with Store.open(tmp_path) as store:
        store.save_file_states(FileState(n, 1, 2, "sha", "sig", True, 3.0) for n in names)
        store.save_good_versions((n, "sha", b"\xff\x00bytes") for n in names)
        ids = [
            store.record_attempt(AttemptRecord(n, "python", f"in {n}", "applied")) for n in names
        ]
        store.set_cooldown(names[0], time.time() + 60, ids[0])
        store.mark_needs_person(names[0], "sha", "three strikes", "no luck")
    with Store.open(tmp_path) as store:
        assert sorted(store.file_states()) == sorted(names)
        assert [store.attempt(i).path for i in ids] == names
        assert [store.attempt(i).error for i in ids] == [f"in {n}" for n in names]
        assert all(store.good_version(n)[1] == b"\xff\x00bytes" for n in names)
        assert set(store.cooldowns()) == {names[0]}
        assert set(store.needs_person()) == {names[0]}
        assert store.failed_attempts(names[0], "x") == 0  # a query by an odd name works
