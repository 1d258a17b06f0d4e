"""The store file itself: a new state folder gets its store silently; a store
that is there but empty, another program's or corrupt stops every command with
exit 2 and the command that repairs it, and is never silently replaced; and an
attempt ID, once handed out, never names another attempt, not even after the
store is rebuilt."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from mechanic.store import STORE_NAME, AttemptRecord, Store, check_store, migrations

BROKEN = b"def f(:\n    return 1\n"
FIXED = b"def f():\n    return 1\n"

# Every command that opens the store, with arguments that would otherwise work.
COMMANDS = [
    ("once",),
    ("check",),
    ("status",),
    ("status", "--json"),
    ("probe",),
    ("pending",),
    ("revert", "1"),
    ("accept", "1"),
    ("reject", "1"),
    ("restore", "src/a.py"),
    ("run",),
]


def _store(workspace):
    return workspace.state / STORE_NAME


def _foreign(path) -> None:
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE photos (id INTEGER PRIMARY KEY, taken REAL);")
    db.execute("INSERT INTO photos (taken) VALUES (1)")
    db.commit()
    db.close()


def _corrupt(path, name: str, *, subtle: bool) -> None:
    """Damage the page of table or index `name`: `subtle` changes one key in it
    (only SQLite's integrity check notices), else the page is overwritten."""
    db = sqlite3.connect(path)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    with open(path, "r+b") as handle:
        handle.seek((root[0] - 1) * page_size)
        page = handle.read(page_size)
        if subtle:
            assert b"/x/a.py" in page
            page = page.replace(b"/x/a.py", b"/x/z.py")
        else:
            page = b"\x0d" + b"\xff" * (page_size - 1)
        handle.seek((root[0] - 1) * page_size)
        handle.write(page)


def test_a_new_state_folder_gets_its_store_silently(workspace):
    workspace.file("a.py", BROKEN)
    result = workspace.run("once")
    assert result.returncode == 0, result.stderr
    assert "(undo: mechanic revert 1)" in result.stdout
    report = check_store(workspace.state)
    assert report.problem is None and report.integrity == "ok"
    assert len(report.store_id) == 36  # a UUID, made when the store was created
    done = workspace.run("store", "check")
    assert done.returncode == 0, done.stderr
    assert f"store id {report.store_id}, schema {migrations.latest()}" in done.stdout


def test_an_empty_store_stops_every_command_and_is_left_as_it_is(workspace):
    workspace.state.mkdir()
    _store(workspace).write_bytes(b"")
    path = workspace.file("a.py", BROKEN)
    for command in COMMANDS:
        result = workspace.run(*command, timeout=60)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert f"{_store(workspace)} is empty (0 bytes)" in result.stderr, (command, result.stderr)
        assert "to repair it, keep it aside and start a new store: mechanic store check" in (
            result.stderr
        )
        assert "Traceback" not in result.stderr
    assert path.read_bytes() == BROKEN
    assert _store(workspace).read_bytes() == b""
    assert sorted(p.name for p in workspace.state.iterdir() if "sqlite" in p.name) == [STORE_NAME]
    check = workspace.run("store", "check")
    assert check.returncode == 2 and "is empty (0 bytes)" in check.stdout


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_foreign, "is another program's SQLite database (tables: photos), not a mechanic store"),
        (lambda path: path.write_bytes(b"garbage" * 1000), "is not a SQLite database"),
    ],
    ids=["foreign", "garbage"],
)
def test_a_foreign_or_garbage_store_stops_the_cycle_and_is_left_as_it_is(workspace, make, says):
    workspace.state.mkdir()
    make(_store(workspace))
    before = _store(workspace).read_bytes()
    path = workspace.file("a.py", BROKEN)
    for command in (("once",), ("status",), ("store", "check")):
        result = workspace.run(*command)
        assert result.returncode == 2, (command, result.stderr)
        assert says in result.stderr + result.stdout, (command, result.stderr)
    assert path.read_bytes() == BROKEN
    assert _store(workspace).read_bytes() == before


def test_the_repair_command_names_the_config_it_was_given(workspace):
    workspace.state.mkdir()
    _store(workspace).write_bytes(b"")
    result = workspace.run("status")
    assert f"mechanic store check --rebuild --config {workspace.config_path}" in result.stderr


def test_an_emptied_store_never_lets_an_old_attempt_id_revert_another_file(workspace):
    """The reproduction: `revert 1` meant for a.py reverted b.py."""
    a = workspace.file("a.py", BROKEN)
    first = workspace.run("once")
    assert "(undo: mechanic revert 1)" in first.stdout
    assert a.read_bytes() == FIXED
    _store(workspace).write_bytes(b"")  # : > state/mechanic.sqlite3

    b = workspace.file("b.py", BROKEN)
    refused = workspace.run("once")
    assert refused.returncode == 2
    assert b.read_bytes() == BROKEN  # nothing ran on the emptied store

    rebuilt = workspace.run("store", "check", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    kept = [p for p in workspace.state.iterdir() if p.name.endswith(".old")]
    assert len(kept) == 1 and kept[0].read_bytes() == b""  # the old file, kept aside
    assert kept[0].name.startswith(STORE_NAME + ".20")  # with a timestamp
    assert "IDs start at 1001" in rebuilt.stdout

    second = workspace.run("once", "--json")
    assert second.returncode == 0, second.stderr
    assert [a["id"] for a in second.json["attempts"]] == [1001]
    assert b.read_bytes() == FIXED

    wrong = workspace.run("revert", "1")
    assert wrong.returncode == 1
    assert "no attempt #1 in this store: its IDs start at 1001" in wrong.stderr
    assert (a.read_bytes(), b.read_bytes()) == (FIXED, FIXED)
    right = workspace.run("revert", "1001")
    assert right.returncode == 0, right.stderr
    assert b.read_bytes() == BROKEN


def test_a_deleted_store_is_made_again_with_ids_above_those_in_the_log(workspace):
    workspace.file("a.py", BROKEN)
    assert "(undo: mechanic revert 1)" in workspace.run("once").stdout
    _store(workspace).unlink()
    b = workspace.file("b.py", BROKEN)
    again = workspace.run("once", "--json")
    assert again.returncode == 0, again.stderr
    assert [a["id"] for a in again.json["attempts"]] == [1001]
    assert workspace.run("revert", "1").returncode == 1
    assert b.read_bytes() == FIXED


@pytest.mark.parametrize(
    ("index", "says"),
    [
        ("meta", "is corrupt (database disk image is malformed)"),  # opening reads it
        ("attempts_path", "fails SQLite's integrity check"),  # only the check notices
    ],
)
def test_a_corrupt_store_is_found_by_store_check_and_rebuilt_above_its_ids(workspace, index, says):
    with Store.open(workspace.state) as store:
        for _ in range(3):
            store.record_attempt(AttemptRecord("/x/a.py", "python", "e", "applied"))
        other = sqlite3.connect(store.path)
        other.execute("UPDATE attempts SET id = 1500 WHERE id = 3")
        other.commit()
        other.close()
    _corrupt(_store(workspace), index, subtle=index == "attempts_path")
    before = _store(workspace).read_bytes()

    check = workspace.run("store", "check")
    assert check.returncode == 2
    assert says in check.stdout
    rebuilt = workspace.run("store", "check", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    (kept,) = [p for p in workspace.state.iterdir() if p.name.endswith(".old")]
    assert kept.read_bytes() == before
    with Store.open(workspace.state) as store:
        record = AttemptRecord("/x/b.py", "python", "e", "pending", old_sha="1", new_sha="2")
        new_id = store.record_attempt(record)
        patch = store.add_pending(record, workspace.backups / "p.fix")
    assert (new_id, patch) == (2001, 2001)  # above the old store's highest ID, 1500
    assert workspace.run("store", "check").returncode == 0


def test_rebuild_leaves_a_healthy_store_alone(workspace):
    with Store.open(workspace.state) as store:
        store.record_attempt(AttemptRecord("/x/a.py", "python", "e", "applied"))
        store_id = store.store_id
    done = workspace.run("store", "check", "--rebuild")
    assert done.returncode == 0
    assert "nothing rebuilt" in done.stdout
    with Store.open(workspace.state) as store:
        assert (store.store_id, store.attempt(1).path) == (store_id, "/x/a.py")


def test_a_store_from_before_store_ids_gets_one_and_keeps_its_ids(tmp_path):
    db = sqlite3.connect(tmp_path / STORE_NAME)
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema', '1');"
    )
    db.close()
    with Store.open(tmp_path) as store:
        assert len(store.store_id) == 36 and store.id_floor == 0
        assert store.record_attempt(AttemptRecord("/a.py", "python", "e", "applied")) == 1
        first = store.store_id
    with Store.open(tmp_path) as store:
        assert store.store_id == first


def _open_and_say(state_dir: str, queue) -> None:
    from pathlib import Path

    try:
        with Store.open(Path(state_dir)) as store:
            queue.put(store.store_id)
    except Exception as exc:  # the test reports what went wrong
        queue.put(f"failed: {exc}")


def test_processes_creating_the_first_store_at_once_share_it(tmp_path):
    """The new store appears whole: no process ever sees a 0-byte file and
    calls it empty, and all of them end up with the same store."""
    context = multiprocessing.get_context("spawn")
    for round_ in range(4):
        state = tmp_path / f"state{round_}"
        queue = context.Queue()
        workers = [
            context.Process(target=_open_and_say, args=(str(state), queue)) for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        said = [queue.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        assert len(set(said)) == 1 and not said[0].startswith("failed"), said


def test_reject_refuses_a_patch_whose_file_changed_unless_told(workspace):
    workspace.write_config(mechanic={"apply": "review"})
    path = workspace.file("a.py", BROKEN)
    assert workspace.run("once", "--json").attempts()["a.py"]["outcome"] == "pending"
    path.write_bytes(b"X = 1\n")  # the person rewrote it meanwhile
    refused = workspace.run("reject", "1")
    assert refused.returncode == 1
    assert "no longer holds the version patch #1 was made from" in refused.stderr
    assert workspace.run("pending", "--json").json[0]["status"] == "pending"
    done = workspace.run("reject", "1", "--stale")
    assert done.returncode == 0, done.stderr
    assert workspace.run("pending", "--json").json == []
    assert path.read_bytes() == b"X = 1\n"


def test_doctor_names_an_unusable_store_and_its_repair(workspace):
    workspace.state.mkdir()
    _store(workspace).write_bytes(b"")
    result = workspace.run("doctor")
    assert result.returncode == 1
    assert "problem  store" in result.stdout and "is empty (0 bytes)" in result.stdout
    assert f"fix: mechanic store check --rebuild --config {workspace.config_path}" in result.stdout


def test_accept_refuses_a_patch_that_does_not_match_its_attempt(workspace):
    """A store whose patch row names another file than its attempt (tampered,
    or mixed up) applies nothing to either file."""
    workspace.write_config(mechanic={"apply": "review"})
    a = workspace.file("a.py", BROKEN)
    b = workspace.file("b.py", BROKEN)
    attempts = workspace.run("once", "--json").attempts()
    assert {n: x["outcome"] for n, x in attempts.items()} == {"a.py": "pending", "b.py": "pending"}
    db = sqlite3.connect(_store(workspace))
    db.execute("UPDATE pending SET path = ? WHERE id = 1", (str(b),))
    db.commit()
    db.close()
    refused = workspace.run("accept", "1")
    assert refused.returncode == 1
    assert "does not match the attempt #1 it names" in refused.stderr
    assert (a.read_bytes(), b.read_bytes()) == (BROKEN, BROKEN)
