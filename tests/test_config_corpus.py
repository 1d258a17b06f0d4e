"""A corpus of malformed configs: each one stops `mechanic` with exit code 2
and a message that names the problem (and, where there is one, the line)."""

from __future__ import annotations

import os

import pytest

from mechanic.cli import main

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
        ("llm.temperature", "between 0 and 2"),
    ),
    "temperature-negative": (edit('backend = "none"', "temperature = -1"), ("llm.temperature",)),
    "num-ctx-too-small": (edit('backend = "none"', "num_ctx = 100"), ("llm.num_ctx", "512")),
    "zero-timeout": (edit('backend = "none"', "timeout_seconds = 0"), ("llm.timeout_seconds",)),
    "zero-threads": (edit('backend = "none"', "threads = 0"), ("llm.threads", "at least 1")),
    "bad-host": (edit('backend = "none"', 'host = "not a url!!"'), ("llm.host", "URL")),
    "empty-model": (edit('backend = "none"', 'model = "  "'), ("llm.model", "empty")),
    "empty-state-dir": (edit('state_dir = "state"', 'state_dir = ""'), ("mechanic.state_dir",)),
    "negative-fixes": (
        edit("max_fixes_per_run = 3", "max_fixes_per_run = -1"),
        ("mechanic.max_fixes_per_run", "at least 0"),
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
