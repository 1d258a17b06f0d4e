"""File names of any bytes: a name that is not UTF-8, holds a newline or a tab,
starts with a dash or is 255 bytes long is checked and repaired like any other,
kept exactly in the store, and shown escaped (`\\xff`, `\\n`, `\\t`) wherever
mechanic writes it for a reader: the console, `--json`, the log."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

BROKEN_PY = b"def f(:\n    return 1\n"
FIXED_PY = b"def f():\n    return 1\n"
BROKEN_JS = b"function f() {\n  return [1, 2;\n}\n"
BROKEN_SH = b"if true; then\n  echo hi\nfi\nfi\n"

# name on disk (bytes) -> how mechanic shows it
ODD = {
    b"bad\xfe.py": "bad\\xfe.py",
    b"new\nline.py": "new\\nline.py",
    b"tab\there.py": "tab\\there.py",
    b"-rf.py": "-rf.py",
    b"--help.py": "--help.py",
    b"L" * 252 + b".py": "L" * 252 + ".py",  # 255 bytes, the most a name may have
    "é".encode() * 126 + b".py": "é" * 126 + ".py",  # 255 bytes of two-byte characters
    b"x\xff.js": "x\\xff.js",
    b"-x.js": "-x.js",
}
SHELL = b"-n.sh"  # bash -n judges it (no rung repairs shell scripts): found broken at line 4


def _make(workspace, name: bytes, content: bytes) -> bytes:
    """Write a file under src/ by its raw name; returns its full path as bytes."""
    path = os.path.join(os.fsencode(workspace.src), name)
    with open(path, "wb") as handle:
        handle.write(content)
    return path


def _read(path: bytes) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _broken(name: bytes) -> bytes:
    return BROKEN_JS if name.endswith(b".js") else BROKEN_PY


def test_a_name_that_is_not_utf8_does_not_stop_its_broken_neighbour_being_repaired(workspace):
    """The reproduction: `ok\\xff.py` next to a broken file crashed every once and check."""
    odd = _make(workspace, b"ok\xff.py", b"X = 1\n")
    broken = workspace.file("broken.py", BROKEN_PY)
    result = workspace.run("once")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert broken.read_bytes() == FIXED_PY
    assert _read(odd) == b"X = 1\n"
    assert "mechanic: 2 files watched, 2 checked, 1 broken" in result.stdout
    check = workspace.run("check", "--json")
    assert (check.returncode, check.json) == (0, []), check.stderr
    again = workspace.run("once")  # the warm cycle reads the odd name back from the store
    assert again.returncode == 0, again.stderr
    assert "2 files watched, 0 checked, 0 broken" in again.stdout


def test_odd_names_are_repaired_shown_escaped_and_reverted(workspace):
    workspace.write_config(watch={"include": ["**/*.py", "**/*.js", "**/*.sh"]})
    paths = {name: _make(workspace, name, _broken(name)) for name in ODD}
    neighbour = workspace.file("plain.py", BROKEN_PY)
    _make(workspace, SHELL, BROKEN_SH)

    result = workspace.run("once")
    assert result.returncode == 1, result.stdout + result.stderr  # the shell script is left
    assert "Traceback" not in result.stderr
    assert "still broken: 1\n  -n.sh:4: syntax error near unexpected token" in result.stdout
    assert neighbour.read_bytes() == FIXED_PY
    for name, path in paths.items():
        assert _read(path) != _broken(name), f"{ODD[name]} was not repaired"
    # On the console each name is on its line, escaped: no raw newline, tab or byte.
    lines = result.stdout.splitlines()
    for shown in ODD.values():
        assert any(line.startswith(f"  applied   {shown} (") for line in lines), shown
    assert "\t" not in result.stdout and "\udcfe" not in result.stdout

    status = workspace.run("status", "--json")
    assert status.returncode == 0, status.stderr
    listed = [Path(a["file"]).name for a in status.json["recent_attempts"]]
    assert len(listed) == 10  # the ten most recent of the eleven
    assert set(listed) <= {*ODD.values(), "plain.py"}
    text = workspace.run("status")
    assert text.returncode == 0, text.stderr
    assert "bad\\xfe.py" in text.stdout

    # The log is valid UTF-8 JSON holding the names as shown.
    log = (workspace.state / "mechanic.log").read_bytes().decode("utf-8")
    events = [json.loads(line) for line in log.splitlines()]
    applied = {Path(e["file"]).name for e in events if e["event"] == "repair.applied"}
    assert applied == {*ODD.values(), "plain.py"}
    shown_log = workspace.run("log", "-n", "100")
    assert shown_log.returncode == 0, shown_log.stderr
    assert "file=" + str(workspace.src) + "/new\\nline.py" in shown_log.stdout

    # Each fix is undone by its ID: the file holds its broken bytes again.
    everything = workspace.run("once", "--json").json  # nothing left: no new attempts
    assert everything["attempts"] == []
    by_name = _attempt_ids(workspace)
    for name, shown in ODD.items():
        done = workspace.run("revert", str(by_name[shown]))
        assert done.returncode == 0, done.stderr
        assert shown in done.stdout
        assert _read(paths[name]) == _broken(name)
    check = workspace.run("check", "--json")
    assert check.returncode == 1, check.stderr
    assert {Path(f["file"]).name for f in check.json} == {*ODD.values(), "-n.sh"}


def _attempt_ids(workspace) -> dict[str, int]:
    log = (workspace.state / "mechanic.log").read_text(encoding="utf-8")
    events = [json.loads(line) for line in log.splitlines()]
    return {Path(e["file"]).name: e["attempt"] for e in events if e["event"] == "repair.applied"}


_NAME_BYTES = st.binary(min_size=1, max_size=60).map(
    lambda b: b.replace(b"/", b"_").replace(b"\x00", b"_")
)


@settings(max_examples=300, deadline=None)
@given(first=_NAME_BYTES, second=_NAME_BYTES)
@example(first=b"\x9b", second=b"\xc2\x9b")  # a lone byte, and U+009B in UTF-8
@example(first=b"a\\nb", second=b"a\nb")  # a backslash and an n, and a newline
def test_two_names_never_show_the_same_and_each_shows_on_one_printable_line(first, second):
    from mechanic.files.names import shown

    a, b = shown(os.fsdecode(first)), shown(os.fsdecode(second))
    assert a.isprintable() and a.encode("utf-8")  # one line, valid UTF-8
    assert (a == b) == (first == second)


@settings(max_examples=100, deadline=None)
@given(names=st.lists(_NAME_BYTES, min_size=1, max_size=5, unique=True))
def test_the_store_gives_back_every_name_byte_for_byte(tmp_path_factory, names):
    from mechanic.store import AttemptRecord, Store

    state = tmp_path_factory.mktemp("state")
    paths = ["/w/" + os.fsdecode(name) for name in names]
    with Store.open(state) as store:
        ids = [store.record_attempt(AttemptRecord(p, "python", p, "applied")) for p in paths]
        store.save_good_versions((p, "sha", os.fsencode(p)) for p in paths)
    with Store.open(state) as store:
        for attempt_id, path in zip(ids, paths, strict=True):
            back = store.attempt(attempt_id)
            assert os.fsencode(back.path) == os.fsencode(path) and back.error == path
            assert store.good_version(path)[1] == os.fsencode(path)
