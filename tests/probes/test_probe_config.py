"""[[probe]] and [alerts] in config.toml: what loads, and errors that name the probe."""

from __future__ import annotations

from pathlib import Path

import pytest

from mechanic.config.load import load_config
from mechanic.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

HEAD = """\
[llm]
backend = "none"
host = "http://127.0.0.1:9"
model = "coder:7b"

[[watch]]
path = "src"
"""


def load(tmp_path: Path, text: str):
    (tmp_path / "src").mkdir(exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(HEAD + "\n" + text)
    return load_config(path)


def error_for(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return str(caught.value)


def test_a_probe_gets_defaults_and_its_types_keys(tmp_path):
    config = load(
        tmp_path,
        '[[probe]]\nname = "db"\ntype = "postgres"\ndsn = "postgresql://u@127.0.0.1/x"\n'
        '\n[[probe]]\nname = "llm"\ntype = "ollama"\n'
        '\n[[probe]]\nname = "out"\ntype = "freshness"\npath = "data"\nmax_age_minutes = 5\n',
    )
    db, llm, out = config.probes
    assert (db.name, db.type, db.timeout_seconds, db.fail_cycles) == ("db", "postgres", 10, 1)
    assert db.options["query"] == "SELECT 1"
    # ollama's host and model default to [llm]'s
    assert llm.options == {"host": "http://127.0.0.1:9", "model": "coder:7b", "generate": False}
    assert out.options["path"] == str(tmp_path / "data")  # relative to the config's folder
    assert config.alerts.webhook_url == "" and config.alerts.desktop is False


def test_on_down_and_alerts_load(tmp_path):
    config = load(
        tmp_path,
        '[alerts]\nwebhook_url = "https://ntfy.sh/topic"\nwebhook_style = "ntfy"\n\n'
        '[[probe]]\nname = "web"\ntype = "pm2"\napps = ["web"]\nfail_cycles = 2\n'
        'on_down = { action = "restart_pm2", app = "web", max_actions = 2, within_cycles = 4 }\n'
        '\n[[probe]]\nname = "fix"\ntype = "tcp"\nport = 5\n[probe.on_down]\n'
        'action = "exec"\ncommand = ["/bin/true", "a b"]\n',
    )
    web, fix = config.probes
    assert web.fail_cycles == 2
    assert (web.on_down.action, web.on_down.app, web.on_down.max_actions) == (
        "restart_pm2",
        "web",
        2,
    )
    assert web.on_down.within_cycles == 4 and web.on_down.reset_after_cycles == 10
    assert fix.on_down.command == ("/bin/true", "a b")
    assert config.alerts.webhook_style == "ntfy"


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('name = "db"\ntype = "postgres"\n', ':9: [[probe]] "db": dsn: is required'),
        (
            'name = "db"\ntype = "postgress"\ndsn = "x"\n',
            ':11: [[probe]] "db": type: unknown probe type',
        ),
        (
            'name = "db"\ntype = "tcp"\nport = 5\nhots = "x"\n',
            ':13: [[probe]] "db": hots: unknown key',
        ),
        (
            'name = "db"\ntype = "tcp"\nport = 70000\n',
            ':12: [[probe]] "db": port: must be between 1',
        ),
        (
            'name = "db"\ntype = "tcp"\nport = "80"\n',
            ':12: [[probe]] "db": port: must be an integer',
        ),
        (
            'name = "d"\ntype = "disk"\n',
            ':9: [[probe]] "d": min_free_percent: set min_free_percent',
        ),
        ('name = "p"\ntype = "process"\nname2 = 1\n', ':12: [[probe]] "p": name2: unknown key'),
        (
            'name = "p"\ntype = "process"\ncmdline = "("\n',
            ':12: [[probe]] "p": cmdline: is not a valid',
        ),
        ('type = "tcp"\nport = 5\n', ":9: probe[0]: name: is required"),
        (
            'name = "t"\ntype = "tcp"\nport = 1\ntimeout_seconds = 0\n',
            ':13: [[probe]] "t": timeout_seconds: must be greater than 0',
        ),
        (
            'name = "g"\ntype = "github"\ntoken_env = "ghp_abc-def"\n',
            ':12: [[probe]] "g": token_env: must name an environment variable',
        ),
        (
            'name = "t"\ntype = "tcp"\nport = 1\non_down = { action = "reboot" }\n',
            ':13: [[probe]] "t": on_down.action: must be one of',
        ),
        (
            'name = "t"\ntype = "tcp"\nport = 1\non_down = { action = "restart_pm2" }\n',
            ':13: [[probe]] "t": on_down.app: is required by action',
        ),
        (
            'name = "t"\ntype = "tcp"\nport = 1\non_down = { action = "exec", command = "rm" }\n',
            ':13: [[probe]] "t": on_down.command: must be a list of strings',
        ),
        (
            'name = "h"\ntype = "http"\nurl = "localhost:80"\n',
            ':12: [[probe]] "h": url: must start with',
        ),
        (
            'name = "q"\ntype = "queue"\ndsn = "postgresql://x"\n',
            ':9: [[probe]] "q": query: is required',
        ),
    ],
)
def test_a_bad_probe_names_itself_the_key_and_the_line(tmp_path, table, expected):
    message = error_for(tmp_path, "[[probe]]\n" + table)
    assert str(tmp_path / "config.toml") + expected in message


def test_two_probes_with_one_name_are_refused(tmp_path):
    table = '[[probe]]\nname = "a"\ntype = "tcp"\nport = 1\n'
    text = table + "\n" + table
    assert ':15: [[probe]] "a": name: is used by another probe' in error_for(tmp_path, text)


def test_the_error_points_at_the_right_probe_table(tmp_path):
    text = '[[probe]]\nname = "a"\ntype = "tcp"\nport = 1\n\n[[probe]]\nname = "b"\ntype = "tcp"\n'
    assert ':14: [[probe]] "b": port: is required' in error_for(tmp_path, text)


def test_bad_alerts_are_refused(tmp_path):
    assert "alerts.webhook_url: must be an http" in error_for(
        tmp_path, '[alerts]\nwebhook_url = "ntfy.sh/x"\n'
    )
    assert "alerts.webhook_style: must be one of" in error_for(
        tmp_path, '[alerts]\nwebhook_style = "teams"\n'
    )


def test_a_config_error_exits_2_from_the_cli(workspace):
    workspace.write_config(raw='\n[[probe]]\nname = "db"\ntype = "postgres"\n')
    result = workspace.run("probe")
    assert result.returncode == 2
    assert '[[probe]] "db": dsn: is required' in result.stderr
    assert f"{workspace.config_path}:" in result.stderr


def test_the_shipped_config_declares_seed_003s_eleven_components(tmp_path):
    (tmp_path / "demo-workspace").mkdir()
    (tmp_path / "config.toml").write_text((REPO / "config.toml").read_text())
    config = load_config(tmp_path / "config.toml")
    assert len(config.probes) == 11
    assert {p.type for p in config.probes} >= {
        "ollama", "postgres", "freshness", "queue", "github", "process", "http", "pm2", "disk",
    }  # fmt: skip
    assert all(p.timeout_seconds <= 10 for p in config.probes)


def test_the_shipped_probes_run_and_report_absent_targets_honestly(tmp_path):
    import json
    import os
    import subprocess
    import sys
    import time

    (tmp_path / "demo-workspace").mkdir()
    (tmp_path / "config.toml").write_text((REPO / "config.toml").read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "MECHANIC_CONFIG")}
    env.update(HOME=str(tmp_path), PM2_HOME=str(tmp_path / "pm2"), PYTHONPATH=str(REPO))
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "mechanic", "probe", "--json", "--config", "config.toml"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert time.monotonic() - started < 15
    assert done.returncode == 1, done.stderr  # some targets are absent here
    results = {r["name"]: r for r in json.loads(done.stdout)}
    assert len(results) == 11
    for name in ("enricher", "content-queue", "engine-errors"):
        assert results[name]["status"] == "down"
        assert "does not exist" in results[name]["message"]
    assert results["github"]["status"] == "error"
    assert "GITHUB_TOKEN (token_env) is not set" in results["github"]["message"]
    assert results["pm2"]["status"] in ("down", "error")  # no daemon, or no pm2 at all
    assert not (tmp_path / "pm2" / "pm2.pid").exists()  # and none was started
    assert all(r["message"] for r in results.values())
