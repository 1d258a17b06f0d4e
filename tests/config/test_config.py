"""config.toml: the user-facing contract, validated before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from mechanic.config.load import find_config, load_config, platform_config_path
from mechanic.config.policy import DEFAULT_OLLAMA_HOST, DEFAULT_PROTECTED
from mechanic.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
[mechanic]
state_dir = "state"
backup_dir = "backups"
max_fixes_per_run = 3
file_cooldown_hours = 6
protected = ["core.js", "simulation.js"]

[llm]
backend = "ollama"
host = "http://127.0.0.1:11434"
model = "qwen2.5-coder:7b"
temperature = 0.1
think = false
timeout_seconds = 120
num_ctx = 16384

[repair]
mode = "whole"

[[watch]]
path = "engine"
include = ["**/*.js", "**/*.py"]
exclude = ["**/node_modules/**", "**/.git/**"]
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "engine").mkdir(exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def error_for(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    return caught.value


def test_the_documented_contract_loads(tmp_path):
    config = load_config(write(tmp_path, GOOD))
    assert config.mechanic.max_fixes_per_run == 3
    assert config.mechanic.file_cooldown_hours == 6
    assert config.mechanic.protected[-2:] == ("core.js", "simulation.js")
    assert config.mechanic.default_protected == DEFAULT_PROTECTED
    assert config.llm.backend == "ollama"
    assert config.llm.think is False
    assert config.llm.num_ctx == 16384
    assert config.repair.mode == "whole"
    assert config.watches[0].include == ("**/*.js", "**/*.py")


def test_relative_paths_resolve_against_the_config_folder(tmp_path, monkeypatch):
    monkeypatch.chdir("/")
    config = load_config(write(tmp_path, GOOD))
    assert config.mechanic.state_dir == tmp_path / "state"
    assert config.mechanic.backup_dir == tmp_path / "backups"
    assert config.watches[0].path == tmp_path / "engine"


def test_a_home_relative_watch_path_expands(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    config = load_config(write(tmp_path, GOOD.replace('path = "engine"', 'path = "~/engine"')))
    assert config.watches[0].path == tmp_path / "engine"


def test_defaults_fill_what_is_left_out(tmp_path, monkeypatch):
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    config = load_config(write(tmp_path, '[[watch]]\npath = "engine"\n'))
    assert config.llm.host == DEFAULT_OLLAMA_HOST
    assert config.llm.temperature == 0.1
    assert config.llm.think is False
    assert config.mechanic.max_fixes_per_run == 3
    assert "**/node_modules/**" in config.watches[0].exclude


def test_ollama_host_comes_from_the_environment_when_not_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "http://10.0.0.5:11434")
    config = load_config(write(tmp_path, '[[watch]]\npath = "engine"\n'))
    assert config.llm.host == "http://10.0.0.5:11434"


@pytest.mark.parametrize(
    ("edit", "key", "line", "words"),
    [
        (("max_fixes_per_run = 3", "max_fixes = 3"), "mechanic.max_fixes", 4, "unknown key"),
        (("temperature = 0.1", 'temperature = "hot"'), "llm.temperature", 12, "a number"),
        (("temperature = 0.1", "temperature = 7"), "llm.temperature", 12, "from 0 to 2"),
        (("think = false", 'think = "no"'), "llm.think", 13, "true or false"),
        (
            ("max_fixes_per_run = 3", "max_fixes_per_run = -1"),
            "mechanic.max_fixes_per_run",
            4,
            "from 0 to 10000",
        ),
        (
            ("max_fixes_per_run = 3", "max_fixes_per_run = true"),
            "mechanic.max_fixes_per_run",
            4,
            "an integer",
        ),
        (('backend = "ollama"', 'backend = "openai"'), "llm.backend", 9, "one of"),
        (("num_ctx = 16384", "num_ctx = 100"), "llm.num_ctx", 15, "from 512 to"),
        (
            ("timeout_seconds = 120", "timeout_seconds = 0"),
            "llm.timeout_seconds",
            14,
            "greater than 0",
        ),
        (('mode = "whole"', 'mode = "magic"'), "repair.mode", 18, "one of"),
        (
            ('protected = ["core.js", "simulation.js"]', 'protected = "core.js"'),
            "mechanic.protected",
            6,
            "list of strings",
        ),
        (
            ('protected = ["core.js", "simulation.js"]', 'protected = ["core.js", 3]'),
            "mechanic.protected",
            6,
            "list of strings",
        ),
        (('path = "engine"', 'path = "nowhere"'), "watch[0].path", 21, "does not exist"),
        (('include = ["**/*.js", "**/*.py"]', 'include = [""]'), "watch[0].include", 22, "empty"),
    ],
)
def test_a_bad_value_names_its_key_file_and_line(tmp_path, edit, key, line, words):
    error = error_for(tmp_path, GOOD.replace(*edit))
    assert error.key == key
    assert error.line == line
    assert error.file == tmp_path / "config.toml"
    assert words in str(error)
    assert f"config.toml:{line}: {key}:" in str(error)


def test_an_unknown_table_is_refused(tmp_path):
    error = error_for(tmp_path, GOOD + "\n[llms]\nmodel = 'x'\n")
    assert error.key == "llms"
    assert error.line == 25


def test_a_watch_table_without_a_path_is_refused(tmp_path):
    error = error_for(tmp_path, GOOD + '\n[[watch]]\ninclude = ["*.py"]\n')
    assert error.key == "watch[1].path"
    assert "required" in str(error)


def test_invalid_toml_names_the_line(tmp_path):
    error = error_for(tmp_path, GOOD.replace("num_ctx = 16384", "num_ctx = = 16384"))
    assert error.line == 15
    assert "invalid TOML" in str(error)


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="not found") as caught:
        load_config(tmp_path / "nope.toml")
    assert caught.value.file == tmp_path / "nope.toml"


def test_lookup_prefers_the_explicit_path_then_the_environment_then_cwd(tmp_path, monkeypatch):
    (tmp_path / "config.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MECHANIC_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert find_config("/elsewhere/c.toml") == Path("/elsewhere/c.toml")
    assert find_config(None) == tmp_path / "config.toml"
    monkeypatch.setenv("MECHANIC_CONFIG", "/from/env.toml")
    assert find_config(None) == Path("/from/env.toml")


def test_lookup_falls_back_to_the_platform_config_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MECHANIC_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    with pytest.raises(ConfigError, match="no config file found"):
        find_config(None)
    platform_config_path().parent.mkdir(parents=True)
    platform_config_path().write_text("")
    assert find_config(None) == tmp_path / "xdg" / "mechanic" / "config.toml"


def test_the_shipped_config_is_valid(tmp_path):
    (tmp_path / "demo-workspace").mkdir()
    (tmp_path / "config.toml").write_bytes((REPO / "config.toml").read_bytes())
    config = load_config(tmp_path / "config.toml")
    assert config.llm.backend == "embedded"
    assert "core.js" in config.mechanic.protected


def test_the_cli_exits_2_naming_the_key_before_any_work(workspace):
    workspace.write_config(llm={"temperature": "warm"})
    broken = workspace.file("a.py", "def f(:\n")
    result = workspace.run("once")
    assert result.returncode == 2
    assert "llm.temperature" in result.stderr
    assert "config.toml:" in result.stderr
    assert not workspace.state.exists()  # nothing ran: no store, no log
    assert broken.read_text() == "def f(:\n"


@pytest.mark.parametrize("mode", ["auto", "whole", "block"])
def test_every_repair_mode_loads_and_auto_is_the_default(tmp_path, mode):
    assert load_config(write(tmp_path, GOOD.replace('"whole"', f'"{mode}"'))).repair.mode == mode
    without = GOOD.replace('mode = "whole"\n', "")
    assert load_config(write(tmp_path, without)).repair.mode == "auto"


def test_an_unknown_repair_mode_lists_the_modes(tmp_path):
    error = error_for(tmp_path, GOOD.replace('mode = "whole"', 'mode = "blocks"'))
    assert "repair.mode" in str(error) and "'auto', 'whole', 'block'" in str(error)


def test_max_cycle_minutes_defaults_to_30_and_must_be_above_0(tmp_path):
    assert load_config(write(tmp_path, GOOD)).mechanic.max_cycle_minutes == 30
    bound = GOOD.replace("max_fixes_per_run = 3", "max_fixes_per_run = 3\nmax_cycle_minutes = 0")
    error = error_for(tmp_path, bound)
    assert error.key == "mechanic.max_cycle_minutes" and error.line == 5
