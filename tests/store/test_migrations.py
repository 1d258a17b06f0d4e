"""The store's schema moves by numbered steps, each recorded in the store and
run once: a store written by release 0.1.0 (tests/fixtures, every table
populated) is brought to the latest step without losing a row, and a store
from a newer mechanic is refused with a clear error naming its file."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from mechanic.store import STORE_NAME, AttemptRecord, Store, migrations

RELEASE_0_1_0 = Path(__file__).parents[1] / "fixtures" / "store-release-0.1.0.sqlite3"


def _rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table but the migrations record, by table, sorted."""
    db = sqlite3.connect(path)
    try:
        tables = [
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if row[0] != migrations.TABLE
        ]
        found = {}
        for table in tables:
            cursor = db.execute(f"SELECT * FROM {table}")
            names = [column[0] for column in cursor.description]
            rows = [tuple(sorted(zip(names, row, strict=True))) for row in cursor]
            found[table] = sorted(rows, key=repr)  # repr: NULLs sort beside numbers
        return found
    finally:
        db.close()


def _meta(rows: list[tuple]) -> dict[str, str]:
    return {dict(row)["key"]: dict(row)["value"] for row in rows}


def _release_store(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    shutil.copyfile(RELEASE_0_1_0, state / STORE_NAME)
    return state


def test_a_store_from_release_0_1_0_migrates_without_losing_a_row(tmp_path):
    state = _release_store(tmp_path)
    before = _rows(state / STORE_NAME)
    assert all(before[table] for table in before), "the fixture has a row in every table"
    with Store.open(state) as store:
        assert migrations.applied(store._db) == [step.__name__ for step in migrations.MIGRATIONS]
        store_id = store.store_id
    after = _rows(state / STORE_NAME)
    meta_before = _meta(before.pop("meta"))
    meta_after = _meta(after.pop("meta"))
    assert set(after) == set(before)
    for table, rows in before.items():
        assert after[table] == rows, table
    # The store keeps its identity; only its schema number moves to the latest step.
    assert meta_after == {**meta_before, "schema": str(migrations.latest())}
    assert store_id == meta_before["store_id"]


def test_a_migrated_release_store_reads_back_and_takes_new_rows(tmp_path):
    state = _release_store(tmp_path)
    with Store.open(state) as store:
        outcomes = sorted(a.outcome for a in store.recent_attempts(100))
        assert outcomes == ["applied", "pending", "rejected", "reverted", "skipped"]
        assert store.attempt_for_intent("intent-0") == store.recent_attempts(100)[-1].id
        assert [p.path for p in store.pending(status=None)] == [
            "/srv/app/f4.py",
            "/srv/app/f2.py",
        ]
        assert set(store.needs_person()) == {"/srv/app/f3.py"}
        assert store.probe_states()["web"].given_up is True
        assert [e.kind for e in store.probe_events("web")] == ["transition"]
        assert store.good_version("/srv/app/a.py")[1] == b"print('ok')\n"
        assert [f.after for f in store.remembered_fixes("python", "sig0")] == ["y0"]
        assert store.remembered_fixes("python", "sig1") == []  # refused: retired
        assert store.cooldown_rows(now=0)["/srv/app/f1.py"].signature == "sig1"
        new = store.record_attempt(AttemptRecord("/srv/app/g.py", "python", "e", "pending"))
        assert new == 6  # after the release's attempts, never one of their IDs


def test_each_migration_is_recorded_and_runs_once(tmp_path):
    with Store.open(tmp_path) as store:
        first = store._db.execute(
            f"SELECT number, name, applied_at FROM {migrations.TABLE} ORDER BY number"
        ).fetchall()
    assert [tuple(row)[:2] for row in first] == [
        (number, step.__name__) for number, step in enumerate(migrations.MIGRATIONS, start=1)
    ]
    assert all(name.startswith(f"m{number:03d}_") for number, name, _ in first)
    with Store.open(tmp_path) as store:  # opened again: nothing runs, nothing is added
        again = store._db.execute(
            f"SELECT number, name, applied_at FROM {migrations.TABLE} ORDER BY number"
        ).fetchall()
        assert migrations.migrate(store._db) == []
    assert [tuple(row) for row in again] == [tuple(row) for row in first]


def test_a_release_store_runs_every_step_once(tmp_path):
    state = _release_store(tmp_path)
    db = sqlite3.connect(state / STORE_NAME)
    from mechanic.store.connection import Connection

    ran = migrations.migrate(Connection(db, state / STORE_NAME))
    assert ran == [step.__name__ for step in migrations.MIGRATIONS]
    assert migrations.migrate(Connection(db, state / STORE_NAME)) == []
    db.close()


def _from_a_newer_mechanic(state: Path) -> None:
    with Store.open(state):
        pass
    db = sqlite3.connect(state / STORE_NAME)
    db.execute(
        f"INSERT INTO {migrations.TABLE} (number, name, applied_at) VALUES (?, ?, 0)",
        (migrations.latest() + 1, f"m{migrations.latest() + 1:03d}_from_the_future"),
    )
    db.commit()
    db.close()


def test_a_store_from_a_newer_mechanic_is_refused_by_every_command(workspace):
    _from_a_newer_mechanic(workspace.state)
    before = (workspace.state / STORE_NAME).read_bytes()
    for command in (("status",), ("once",), ("pending",), ("store", "check")):
        result = workspace.run(*command, timeout=60)
        said = result.stderr + result.stdout
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert f"{workspace.state / STORE_NAME} was written by a newer mechanic" in said, command
        assert "from_the_future" in said and "upgrade mechanic" in said, command
        assert "Traceback" not in said, command
    assert (workspace.state / STORE_NAME).read_bytes() == before  # nothing migrated or lost


def test_every_record_comes_back_as_a_typed_record_not_a_row(tmp_path):
    import dataclasses

    state = _release_store(tmp_path)
    with Store.open(state) as store:
        records = [
            store.last_cycle(),
            store.totals(),
            *store.rung_stats(),
            *store.pending(status=None),
            store.pending_patch(1),
            *store.cooldown_rows(now=0).values(),
            *store.refusals("/srv/app/f1.py", "1" * 64),
            *store.needs_person().values(),
            *store.fix_examples("python", "/srv/app/f0.py", "/srv/app", 5),
            *store.probe_events("web"),
            *store.probe_actions("web"),
            *store.fix_actions(),
        ]
    assert len(records) == 17
    assert all(dataclasses.is_dataclass(record) for record in records), records
    assert [a.ok for a in records if type(a).__name__ == "FixActionRecord"] == [True]
    assert records[-1].files == ["a.py"]
