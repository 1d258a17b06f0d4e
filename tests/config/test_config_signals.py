"""config.toml: [[errorlog]] tables and a watch root's test_cmd / smoke_cmd."""

from __future__ import annotations

from pathlib import Path

import pytest

from mechanic.config.load import load_config
from mechanic.config.policy import DEFAULT_RUNTIME_ERRORS
from mechanic.errors import ConfigError

WATCH = '[[watch]]\npath = "engine"\n'


def load(tmp_path: Path, text: str):
    (tmp_path / "engine").mkdir(exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path)


def test_an_errorlog_glob_expands_home_and_gets_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    config = load(tmp_path, WATCH + '\n[[errorlog]]\npath = "~/.pm2/logs/*-error.log"\n')
    [errorlog] = config.errorlogs
    assert errorlog.path == str(tmp_path / ".pm2" / "logs" / "*-error.log")
    assert errorlog.language == "auto"
    assert errorlog.errors == DEFAULT_RUNTIME_ERRORS
    assert errorlog.max_age_minutes == 60


def test_a_relative_errorlog_resolves_against_the_config_folder(tmp_path):
    config = load(tmp_path, WATCH + '[[errorlog]]\npath = "logs/*.log"\nlanguage = "python"\n')
    assert config.errorlogs[0].path == str(tmp_path / "logs" / "*.log")
    assert config.errorlogs[0].language == "python"


@pytest.mark.parametrize(
    ("table", "key", "line", "words"),
    [
        ('[[errorlog]]\nlanguage = "python"\n', "errorlog[0].path", 3, "is required"),
        ('[[errorlog]]\npath = "x"\nlanguage = "ruby"\n', "errorlog[0].language", 5, "one of"),
        ('[[errorlog]]\npath = "x"\nerrors = [3]\n', "errorlog[0].errors", 5, "exception names"),
        ('[[errorlog]]\npath = "x"\nerrors = "TypeError"\n', "errorlog[0].errors", 5, "list"),
        ('[[errorlog]]\npath = "x"\ncolour = 1\n', "errorlog[0].colour", 5, "unknown key"),
        (
            '[[errorlog]]\npath = "x"\nmax_age_minutes = 0\n',
            "errorlog[0].max_age_minutes",
            5,
            "greater than 0",
        ),
        ('test_cmd = ""\n', "watch[0].test_cmd", 3, "must not be empty"),
        ("test_cmd = [1]\n", "watch[0].test_cmd", 3, "non-empty strings"),
        ('test_cmd = "pytest \'open"\n', "watch[0].test_cmd", 3, "cannot be split"),
        ('smoke_cmd = ["node", ""]\n', "watch[0].smoke_cmd", 3, "non-empty strings"),
        ("test_timeout_seconds = 0\n", "watch[0].test_timeout_seconds", 3, "greater than 0"),
        ("test_memory_mb = 10\n", "watch[0].test_memory_mb", 3, "from 64 to"),
    ],
)
def test_bad_signal_settings_name_the_key_and_line(tmp_path, table, key, line, words):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, WATCH + table)
    error = caught.value
    assert error.key == key
    assert error.line == line
    assert words in error.detail


def test_errorlog_must_be_an_array_of_tables(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, 'errorlog = "x"\n' + WATCH)
    assert (caught.value.key, caught.value.line) == ("errorlog", 1)
    assert "[[errorlog]]" in caught.value.detail


def test_a_test_command_string_is_split_without_a_shell(tmp_path):
    config = load(tmp_path, WATCH + "test_cmd = \"python -m pytest -q -k 'not slow'\"\n")
    assert config.watches[0].test_cmd == ("python", "-m", "pytest", "-q", "-k", "not slow")
    config = load(tmp_path, WATCH + 'smoke_cmd = ["node", "worker.js", "--dry-run"]\n')
    assert config.watches[0].smoke_cmd == ("node", "worker.js", "--dry-run")
    assert config.watches[0].test_cmd == ()
    assert config.watches[0].test_timeout_seconds == 300
