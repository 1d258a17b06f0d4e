"""A corpus of malformed configs: each one stops `mechanic` with exit code 2
and a message that names the problem (and, where there is one, the line)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mechanic.cli.main import main
from mechanic.config.keys import ERRORLOG_SCHEMA, ON_DOWN_SCHEMA, PROBE_SCHEMA, SCHEMA, WATCH_SCHEMA
from mechanic.config.schema import NUMBER, Key

BASE = """\
[mechanic]
state_dir = "state"
max_fixes_per_run = 3

[llm]
backend = "none"

[[watch]]
path = "src"
"""


def edit(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new)


# id -> (config text, or bytes for a non-text file; words the message must hold)
CORPUS: dict[str, tuple[str | bytes, tuple[str, ...]]] = {
    # unknown keys and tables
    "unknown-table": (BASE + "[llms]\nmodel = 'x'\n", ("llms", "unknown table")),
    "unknown-mechanic-key": (
        edit("max_fixes_per_run = 3", "max_fixes = 3"),
        ("mechanic.max_fixes", "unknown key", ":3:"),
    ),
    "unknown-llm-key": (edit('backend = "none"', 'backend = "none"\nmodle = "x"'), ("llm.modle",)),
    "unknown-watch-key": (edit('path = "src"', 'path = "src"\npth = "x"'), ("watch[0].pth",)),
    "unknown-repair-key": (BASE + "[repair]\nmodes = 'whole'\n", ("repair.modes",)),
    # wrong types
    "string-for-int": (
        edit("max_fixes_per_run = 3", 'max_fixes_per_run = "3"'),
        ("mechanic.max_fixes_per_run", "an integer"),
    ),
    "bool-for-int": (
        edit("max_fixes_per_run = 3", "max_fixes_per_run = true"),
        ("mechanic.max_fixes_per_run", "an integer"),
    ),
    "float-for-int": (
        edit("max_fixes_per_run = 3", "max_fixes_per_run = 1.5"),
        ("mechanic.max_fixes_per_run",),
    ),
    "string-for-number": (
        edit("max_fixes_per_run = 3", 'file_cooldown_hours = "six"'),
        ("mechanic.file_cooldown_hours", "a number"),
    ),
    "int-for-path": (edit('state_dir = "state"', "state_dir = 5"), ("mechanic.state_dir",)),
    "string-for-list": (
        edit("max_fixes_per_run = 3", 'protected = "core.js"'),
        ("mechanic.protected", "list of strings"),
    ),
    "number-in-list": (
        edit("max_fixes_per_run = 3", 'protected = ["core.js", 3]'),
        ("mechanic.protected", "list of strings"),
    ),
    "string-for-bool": (edit('backend = "none"', 'think = "no"'), ("llm.think", "true or false")),
    "int-for-string": (edit('backend = "none"', "model = 3"), ("llm.model", "a string")),
    "list-for-default-protected": (
        edit("max_fixes_per_run = 3", 'default_protected = "auth/"'),
        ("mechanic.default_protected",),
    ),
    "table-as-value": (
        "llm = 3\n" + BASE.replace('[llm]\nbackend = "none"\n', ""),
        ("llm", "must be a table"),
    ),
    "llm-as-array": (BASE.replace("[llm]", "[[llm]]"), ("llm", "must be a table")),
    "watch-as-table": (BASE.replace("[[watch]]", "[watch]"), ("watch", "[[watch]]")),
    # impossible values
    "unknown-backend": (edit('backend = "none"', 'backend = "openai"'), ("llm.backend", "one of")),
    "temperature-too-high": (
        edit('backend = "none"', "temperature = 7"),
        ("llm.temperature", "from 0 to 2"),
    ),
    "temperature-negative": (edit('backend = "none"', "temperature = -1"), ("llm.temperature",)),
    "num-ctx-too-small": (edit('backend = "none"', "num_ctx = 100"), ("llm.num_ctx", "512")),
    "zero-timeout": (edit('backend = "none"', "timeout_seconds = 0"), ("llm.timeout_seconds",)),
    "zero-threads": (edit('backend = "none"', "threads = 0"), ("llm.threads", "from 1 to 1024")),
    "bad-host": (edit('backend = "none"', 'host = "not a url!!"'), ("llm.host", "URL")),
    "empty-model": (edit('backend = "none"', 'model = "  "'), ("llm.model", "empty")),
    "empty-state-dir": (edit('state_dir = "state"', 'state_dir = ""'), ("mechanic.state_dir",)),
    "negative-fixes": (
        edit("max_fixes_per_run = 3", "max_fixes_per_run = -1"),
        ("mechanic.max_fixes_per_run", "from 0 to 10000"),
    ),
    "zero-max-file-kb": (edit("max_fixes_per_run = 3", "max_file_kb = 0"), ("max_file_kb",)),
    "zero-log-size": (edit("max_fixes_per_run = 3", "log_max_mb = 0"), ("mechanic.log_max_mb",)),
    "unknown-apply-mode": (
        edit("max_fixes_per_run = 3", 'apply = "sometimes"'),
        ("mechanic.apply", "one of"),
    ),
    "string-for-git-commit": (
        edit("max_fixes_per_run = 3", 'git_commit = "yes"'),
        ("mechanic.git_commit", "true or false"),
    ),
    "unknown-repair-mode": (BASE + "[repair]\nmode = 'magic'\n", ("repair.mode", "one of")),
    # globs
    "empty-glob": (edit('path = "src"', 'path = "src"\ninclude = [""]'), ("watch[0].include",)),
    "lone-bang-glob": (
        edit("max_fixes_per_run = 3", 'protected = ["!"]'),
        ("mechanic.protected", "invalid glob"),
    ),
    "backslash-glob": (
        edit('path = "src"', 'path = "src"\nexclude = ["\\\\"]'),
        ("watch[0].exclude", "invalid glob"),
    ),
    "bad-range-glob": (
        edit('path = "src"', 'path = "src"\ninclude = ["**/[z-a].py"]'),
        ("watch[0].include", "invalid glob"),
    ),
    "number-glob": (edit('path = "src"', 'path = "src"\nexclude = [1]'), ("watch[0].exclude",)),
    # watch roots
    "missing-watch-root": (
        edit('path = "src"', 'path = "nowhere"'),
        ("watch[0].path", "not exist"),
    ),
    "watch-root-is-a-file": (edit('path = "src"', 'path = "afile"'), ("not a folder",)),
    "watch-without-path": (
        BASE + "\n[[watch]]\ninclude = ['*.py']\n",
        ("watch[1].path", "required"),
    ),
    "empty-watch-path": (edit('path = "src"', 'path = ""'), ("watch[0].path", "empty")),
    # not TOML at all
    "double-equals": (edit("max_fixes_per_run = 3", "max_fixes_per_run = = 3"), ("invalid TOML",)),
    "unclosed-string": (edit('state_dir = "state"', 'state_dir = "state'), ("invalid TOML",)),
    "duplicate-key": (
        edit("max_fixes_per_run = 3", "max_fixes_per_run = 3\nmax_fixes_per_run = 4"),
        ("invalid TOML",),
    ),
    "duplicate-table": (BASE + "[mechanic]\nmax_fixes_per_run = 1\n", ("invalid TOML",)),
    "unclosed-table": (BASE.replace("[llm]", "[llm"), ("invalid TOML",)),
    "not-utf8": (BASE.encode() + b"# caf\xe9\n", ("not UTF-8",)),
    "binary": (b"\x00\x01\x02\xff" * 20, ("config",)),
    # numbers that pass a bare `> 0` test, then crash the arithmetic that uses them
    **{
        f"{key}-{name}": (
            edit("max_fixes_per_run = 3", f"{key} = {value}"),
            (f"mechanic.{key}", "finite number", bounds, ":3:"),
        )
        for key, bounds in (
            ("interval_minutes", "greater than 0 and at most 10080"),
            ("max_cycle_minutes", "greater than 0 and at most 10080"),
            ("log_max_mb", "greater than 0 and at most"),
            ("quiet_seconds", "from 0 to 86400"),
            ("file_cooldown_hours", "from 0 to 8784"),
        )
        for name, value in (("nan", "nan"), ("inf", "inf"), ("1e308", "1e308"), ("-inf", "-inf"))
    },
    **{
        f"llm-timeout-{name}": (
            edit('backend = "none"', f'backend = "none"\ntimeout_seconds = {value}'),
            ("llm.timeout_seconds", "finite number", "greater than 0 and at most 86400"),
        )
        for name, value in (("nan", "nan"), ("inf", "+inf"), ("1e308", "1e308"))
    },
    "huge-int": (
        edit("max_fixes_per_run = 3", "max_fixes_per_run = 99999999999999999999999"),
        ("mechanic.max_fixes_per_run", "from 0 to 10000"),
    ),
    "huge-hex-int": (
        edit("max_fixes_per_run = 3", "max_fixes_per_run = 0x" + "f" * 5000),
        ("mechanic.max_fixes_per_run", "from 0 to 10000", "digits"),
    ),
    "int-past-python-digit-limit": (
        edit("max_fixes_per_run = 3", "max_fixes_per_run = " + "9" * 5000),
        ("invalid TOML", "4300 digits"),
    ),
    "nan-test-timeout": (
        edit('path = "src"', 'path = "src"\ntest_timeout_seconds = nan'),
        ("watch[0].test_timeout_seconds", "finite number"),
    ),
    "nan-errorlog-age": (
        BASE + '[[errorlog]]\npath = "x.log"\nmax_age_minutes = nan\n',
        ("errorlog[0].max_age_minutes", "finite number"),
    ),
    "inf-probe-timeout": (
        BASE + '[[probe]]\nname = "db"\ntype = "tcp"\nport = 5432\ntimeout_seconds = inf\n',
        ('[[probe]] "db": timeout_seconds', "finite number"),
    ),
    # A probe option with a check of its own that inf passes (`value > 0`).
    "inf-probe-option": (
        BASE + '[[probe]]\nname = "f"\ntype = "freshness"\npath = "src"\nmax_age_minutes = inf\n',
        ('[[probe]] "f": max_age_minutes', "finite number"),
    ),
    "nan-on-down": (
        BASE
        + '[[probe]]\nname = "db"\ntype = "tcp"\nport = 5432\n'
        + 'on_down = {action = "exec", command = ["true"], timeout_seconds = nan}\n',
        ('[[probe]] "db": on_down.timeout_seconds', "finite number"),
    ),
    # shapes that crashed instead of being named
    "watch-list-of-numbers": (
        "watch = [1]\n" + BASE.replace('[[watch]]\npath = "src"\n', ""),
        ("watch[0]", "[[watch]]", "found int 1"),
    ),
    "watch-list-of-strings": (
        'watch = ["src"]\n' + BASE.replace('[[watch]]\npath = "src"\n', ""),
        ("watch[0]", "[[watch]]", "found str 'src'"),
    ),
    "probe-list-of-numbers": ("probe = [1]\n" + BASE, ("probe[0]", "[[probe]]")),
    "probe-list-of-strings": ('probe = ["x"]\n' + BASE, ("probe[0]", "[[probe]]", "'x'")),
    "probe-as-string": ('probe = "x"\n' + BASE, ("probe", "[[probe]]")),
    "errorlog-list-of-numbers": ("errorlog = [1]\n" + BASE, ("errorlog[0]", "[[errorlog]]")),
    "deeply-nested-array": ("x = " + "[" * 5000 + "\n" + BASE, ("nested too deeply", ":1:")),
    "deeply-nested-table": (
        BASE + "[mechanic2]\nx = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n",
        ("nested too deeply",),
    ),
    "nested-list-in-globs": (
        edit("max_fixes_per_run = 3", 'protected = [[[["x"]]]]'),
        ("mechanic.protected", "list of strings"),
    ),
    # folders mechanic must write
    "state-dir-is-a-file": (
        edit('state_dir = "state"', 'state_dir = "afile"'),
        ("mechanic.state_dir", "afile is a file, not a folder", ":2:"),
    ),
    "state-dir-under-a-file": (
        edit('state_dir = "state"', 'state_dir = "afile/state"'),
        ("mechanic.state_dir", "on its way", "a file, not a folder"),
    ),
    "backup-dir-is-a-file": (
        edit('state_dir = "state"', 'state_dir = "state2"\nbackup_dir = "afile"'),
        ("mechanic.backup_dir", "afile is a file, not a folder"),
    ),
}


def test_the_corpus_is_big_enough():
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_a_malformed_config_exits_2_naming_the_problem(tmp_path, capsys, case):
    content, words = CORPUS[case]
    (tmp_path / "src").mkdir()
    (tmp_path / "afile").write_text("x")
    config = tmp_path / "config.toml"
    config.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mechanic: config error: ")
    assert str(config) in err
    for word in words:
        assert word in err, (case, err)
    assert not (tmp_path / "state").exists()  # stopped before any work


def test_a_missing_config_file_exits_2_naming_it(tmp_path, capsys):
    assert main(["check", "--config", str(tmp_path / "nope.toml")]) == 2
    err = capsys.readouterr().err
    assert "nope.toml" in err and "not found" in err


def test_a_folder_given_as_the_config_exits_2(tmp_path, capsys):
    assert main(["check", "--config", str(tmp_path)]) == 2
    assert "cannot read config file" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_config_exits_2(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(BASE)
    config.chmod(0)
    assert main(["check", "--config", str(config)]) == 2
    assert "cannot read config file" in capsys.readouterr().err


def test_a_config_that_starts_with_a_utf8_bom_is_accepted(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "ok.py").write_text("x = 1\n")
    config = tmp_path / "config.toml"
    config.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert main(["check", "--config", str(config)]) == 0, capsys.readouterr().err


# --- folders mechanic cannot use -----------------------------------------------

# Every command that opens the state folder; `revert`, `accept` and `reject` are
# refused at the folder before they look for their attempt.
STATE_COMMANDS = (
    ["once"],
    ["once", "--dry-run"],
    ["check"],
    ["status"],
    ["probe"],
    ["pending"],
    ["revert", "1"],
    ["accept", "1"],
    ["reject", "1"],
    ["restore", "src/a.py"],
    ["run"],
)


def _unwritable(folder: Path) -> Callable[[], None]:
    """Make `folder` refuse new entries for real, and return the undo. Root ignores
    permission bits, so as root the folder is made immutable (chattr +i), which
    stops root too; the test is skipped only when neither can be made to fail."""
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot make a folder unwritable as root here: {done.stderr!r}")

        def undo() -> None:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)

        def undo() -> None:
            folder.chmod(0o755)

    try:
        (folder / "probe").touch()
    except OSError:
        return undo
    (folder / "probe").unlink()
    undo()
    pytest.skip("the folder stayed writable")


@pytest.mark.parametrize(
    ("command", "where"),
    [(command, "state-folder") for command in STATE_COMMANDS]
    + [(["once"], "its-parent"), (["check"], "its-parent"), (["run"], "its-parent")],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_a_read_only_state_folder_exits_2_naming_the_key(workspace, command, where):
    workspace.file("a.py", "def f(:\n")
    holder = workspace.root / "ro"
    holder.mkdir()
    state = holder / "state" if where == "its-parent" else holder
    workspace.write_config(mechanic={"state_dir": str(state)})
    undo = _unwritable(holder)
    try:
        result = workspace.run(*command, timeout=60)
    finally:
        undo()
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert f"config error: {workspace.config_path}:" in result.stderr
    assert "mechanic.state_dir" in result.stderr and str(state) in result.stderr
    assert workspace.src.joinpath("a.py").read_text() == "def f(:\n"


@pytest.mark.parametrize("command", STATE_COMMANDS, ids=" ".join)
def test_a_state_dir_that_is_a_file_exits_2_from_every_command(workspace, command):
    workspace.file("a.py", "def f(:\n")
    (workspace.root / "afile").write_text("not a folder")
    workspace.write_config(mechanic={"state_dir": "afile"})
    result = workspace.run(*command, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert "mechanic.state_dir" in result.stderr and "is a file, not a folder" in result.stderr
    assert (workspace.root / "afile").read_text() == "not a folder"


def test_a_read_only_backup_folder_stops_a_cycle_before_any_work(workspace):
    path = workspace.file("a.py", "def f(:\n    return 1\n")
    workspace.backups.mkdir()
    undo = _unwritable(workspace.backups)
    try:
        result = workspace.run("once", timeout=60)
    finally:
        undo()
    assert result.returncode == 2, result.stderr
    assert "mechanic.backup_dir" in result.stderr and "cannot be written in" in result.stderr
    assert path.read_text() == "def f(:\n    return 1\n"


# --- the daemon: at start, and on a live edit -----------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "1e308"])
def test_the_daemon_refuses_a_non_finite_interval_at_start(workspace, value):
    workspace.write_config(raw="")
    text = workspace.config_path.read_text().replace(
        "[mechanic]\n", f"[mechanic]\ninterval_minutes = {value}\n"
    )
    workspace.config_path.write_text(text)
    result = workspace.run("run", timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "mechanic.interval_minutes" in result.stderr
    assert "greater than 0 and at most 10080" in result.stderr


@pytest.mark.parametrize(
    ("key", "value"),
    [("interval_minutes", "nan"), ("interval_minutes", "1e308"), ("log_max_mb", "inf")],
)
def test_a_live_edit_to_a_non_finite_number_keeps_the_last_good_config(workspace, key, value):
    from tests.support.daemon_process import DaemonProcess

    workspace.write_config(mechanic={"quiet_seconds": 1})
    good = workspace.config_path.read_text()
    daemon = DaemonProcess(workspace)
    try:
        daemon.wait_for("cycle.done", timeout=60)
        workspace.config_path.write_text(
            good.replace("[mechanic]\n", f"[mechanic]\n{key} = {value}\n")
        )
        invalid = daemon.wait_for("config.invalid", timeout=20)
        assert invalid["key"] == f"mechanic.{key}"
        assert "finite number" in invalid["error"]
        assert invalid["kept"] == "the last good config stays in use"
        # Still alive, still working under the old config: a broken file gets reported.
        count = len(daemon.events())
        path = workspace.file("late.py", "def f(:\n")
        daemon.wait_for(
            lambda e: e.get("event") == "finding" and e.get("file") == str(path.resolve()),
            after=count,
            timeout=60,
        )
        assert daemon.proc.poll() is None
        assert "Traceback" not in daemon.output()
    finally:
        daemon.close()


# --- generated configs ------------------------------------------------------------
# The invariant, whatever the config holds: exit 2 with the file, the key and the
# reason (or a working run when it happens to be valid), never a traceback.


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if value != value else {INF: "inf", -INF: "-inf"}.get(value, repr(value))
    if isinstance(value, int | str):
        return json.dumps(value) if isinstance(value, str) else str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"


def _document(tables: dict[str, Any]) -> str:
    """TOML text: plain values first, then [tables] and [[arrays of tables]]."""
    head, body = [], []
    for name, value in tables.items():
        if isinstance(value, dict):
            body.append(f"[{name}]")
            body += [f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(t, dict) for t in value):
            for table in value:
                body.append(f"[[{name}]]")
                body += [f"{json.dumps(k)} = {_toml(v)}" for k, v in table.items()]
        else:
            head.append(f"{json.dumps(name)} = {_toml(value)}")
    return "\n".join(head + body) + "\n"


INF = float("inf")
BAD_NUMBERS = st.sampled_from([float("nan"), INF, -INF, 1e308, -1e308, 10**20, -(10**20)])
LEAVES = st.one_of(
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    BAD_NUMBERS,
    st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=12),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text("abcxyz_", min_size=1, max_size=4), inner, max_size=3),
    ),
    max_leaves=6,
)


def _fits(value: Any, key: Key) -> bool:
    if isinstance(value, bool) and bool not in key.types:
        return False
    return isinstance(value, key.types)


def _targets() -> list[tuple[str, str, Key]]:
    """(where, key name, Key) for every key of the schema, probe options included."""
    from probes import REGISTRY

    found = [(section, name, key) for section, keys in SCHEMA.items() for name, key in keys.items()]
    found += [("watch", name, key) for name, key in WATCH_SCHEMA.items()]
    found += [("errorlog", name, key) for name, key in ERRORLOG_SCHEMA.items()]
    found += [("probe", name, key) for name, key in PROBE_SCHEMA.items()]
    found += [("on_down", name, key) for name, key in ON_DOWN_SCHEMA.items()]
    found += [("tcp", name, key) for name, key in REGISTRY.get("tcp").options.items()]
    return found


def _config_with(where: str, name: str, value: Any) -> tuple[dict[str, Any], str]:
    """A valid config with `value` at `where`.`name`, and the label errors give that key."""
    tables: dict[str, Any] = {
        "mechanic": {"state_dir": "state"},
        "llm": {"backend": "none"},
        "watch": [{"path": "src"}],
    }
    probe = {"name": "p", "type": "tcp", "port": 5432}
    if where in SCHEMA:
        tables.setdefault(where, {})[name] = value
        return tables, f"{where}.{name}"
    if where in ("watch", "errorlog"):
        table = {"path": "src" if where == "watch" else "app.log", name: value}
        tables[where] = [table]
        return tables, f"{where}[0].{name}"
    if where == "on_down":
        probe["on_down"] = {"action": "exec", "command": ["true"], name: value}
        tables["probe"] = [probe]
        return tables, f'"p": on_down.{name}'
    probe[name] = value
    tables["probe"] = [probe]
    return tables, "probe[0]: name" if name == "name" else f'"p": {name}'


def _run_check(tmp_path: Path, text: str, capsys) -> tuple[int, str]:
    (tmp_path / "src").mkdir(exist_ok=True)
    config = tmp_path / "config.toml"
    config.write_text(text)
    capsys.readouterr()
    code = main(["check", "--config", str(config)])
    return code, capsys.readouterr().err


def _wrong_value(target: tuple[str, str, Key]) -> st.SearchStrategy[Any]:
    _, _, key = target
    wrong = VALUES.filter(lambda value: not _fits(value, key))
    return st.one_of(wrong, BAD_NUMBERS) if key.types in ((int,), NUMBER) else wrong


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_a_wrong_type_or_number_at_any_key_exits_2_naming_that_key(tmp_path, capsys, data):
    target = data.draw(st.sampled_from(_targets()), label="key")
    value = data.draw(_wrong_value(target), label="value")
    tables, label = _config_with(target[0], target[1], value)
    code, err = _run_check(tmp_path, _document(tables), capsys)
    assert code == 2, err
    assert err.startswith("mechanic: config error: ") and str(tmp_path / "config.toml") in err
    assert label in err, err


TABLE_NAMES = st.sampled_from([*SCHEMA, "watch", "errorlog", "probe", "other"])


@st.composite
def _overrides(draw: st.DrawFn) -> dict[str, Any]:
    """Random tables and keys (known and unknown) layered over a valid config."""
    tables: dict[str, Any] = {
        "mechanic": {"state_dir": "state"},
        "llm": {"backend": "none"},
        "watch": [{"path": "src"}],
    }
    for name in draw(st.lists(TABLE_NAMES, min_size=1, max_size=3, unique=True)):
        known = {**SCHEMA.get(name, {}), **WATCH_SCHEMA, **PROBE_SCHEMA, **ERRORLOG_SCHEMA}
        keys = st.one_of(st.sampled_from(sorted(known)), st.text("abz_", min_size=1, max_size=3))
        values = st.dictionaries(keys, VALUES, max_size=3)
        shape = draw(st.sampled_from(["table", "array", "value"]))
        if shape == "table":
            tables[name] = draw(values)
        elif shape == "array":
            tables[name] = draw(st.lists(values, min_size=1, max_size=2))
        else:
            tables[name] = draw(VALUES)
    return tables


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables=_overrides())
def test_any_generated_config_is_used_or_refused_never_a_crash(tmp_path, capsys, tables):
    code, err = _run_check(tmp_path, _document(tables), capsys)
    assert code in (0, 1, 2), err
    if code == 2:
        assert err.startswith("mechanic: config error: "), err
        assert str(tmp_path / "config.toml") in err


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(depth=st.integers(2, 6000), opener=st.sampled_from(["[", "{a = "]))
def test_nesting_of_any_depth_is_refused_or_used_never_a_crash(tmp_path, capsys, depth, opener):
    closer = "]" if opener == "[" else "}"
    text = _document({"llm": {"backend": "none"}, "watch": [{"path": "src"}]})
    text = f"[mechanic]\nprotected = {opener * depth}'x'{closer * depth}\n" + text
    code, err = _run_check(tmp_path, text, capsys)
    assert code == 2, err
    assert err.startswith("mechanic: config error: "), err
    assert "mechanic.protected" in err or "nested too deeply" in err, err
