"""`mechanic service` and `mechanic doctor`, as the user runs them.

The unit folder is always a temp folder (MECHANIC_SERVICE_DIR) and HOME a temp
home, so no test touches the real user's services. systemctl and launchctl
are recording stand-ins where a test needs them to succeed: a real
`systemctl --user enable` would start mechanic for the person running the tests.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.workspace import Workspace

RECORDER = """#!/bin/sh
# Records each call, one line of arguments, like the real tool would be called.
echo "$*" >> "{log}"
case "$*" in
  *is-active*) exit {active} ;;
  print*) exit {loaded} ;;
esac
exit 0
"""


@pytest.fixture
def space(tmp_path) -> Workspace:
    # A folder name with a space, '&' and '%': each needs quoting in a unit or a plist.
    space = Workspace(tmp_path / "my app & 100%")
    space.write_config()
    return space


def recorder(tmp_path: Path, name: str, *, active: bool = True, loaded: bool = False) -> Path:
    log = tmp_path / f"{name}.calls"
    tool = tmp_path / "bin" / name
    tool.parent.mkdir(exist_ok=True)
    tool.write_text(
        RECORDER.format(log=log, active=0 if active else 3, loaded=0 if loaded else 113)
    )
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return tool


def calls(tool: Path) -> list[str]:
    log = tool.parent.parent / f"{tool.name}.calls"
    return log.read_text().splitlines() if log.exists() else []


def service_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"HOME": str(home), "MECHANIC_SERVICE_DIR": str(tmp_path / "units"), **extra}


def test_the_rendered_unit_passes_systemd_analyze_verify(space, tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (.ci/run installs it)")
    result = space.run("service", "install", "--dry-run", "--platform", "systemd")
    assert result.returncode == 0, result.stderr
    unit = tmp_path / "mechanic.service"
    unit.write_text(result.stdout)
    verify = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0, verify.stderr
    assert "mechanic.service" not in verify.stderr  # no warning about our unit either
    text = result.stdout
    for line in (
        "Type=notify",
        "Restart=on-failure",
        "Environment=PYTHONUNBUFFERED=1",
        f'ExecStart="{sys.executable}" -m mechanic run --config',
    ):
        assert line in text
    assert "WatchdogSec=" in text and "RestartSec=" in text and "StartLimitBurst=" in text
    assert "my app & 100%%" in text  # % escaped: systemd would read %<char> as a specifier
    assert not (tmp_path / "units").exists()  # --dry-run writes nothing


def test_the_plist_round_trips_through_plistlib(space):
    result = space.run("service", "install", "--dry-run", "--platform", "launchd")
    assert result.returncode == 0, result.stderr
    plist = plistlib.loads(result.stdout.encode())
    config = str(space.config_path.absolute())
    assert plist["ProgramArguments"] == [
        sys.executable,
        "-m",
        "mechanic",
        "run",
        "--config",
        config,
    ]
    assert plist["Label"] == "local.mechanic"
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert isinstance(plist["ThrottleInterval"], int) and plist["ThrottleInterval"] >= 10
    assert plist["StandardOutPath"].endswith(".log") and plist["StandardErrorPath"].endswith(".log")
    path = plist["EnvironmentVariables"]["PATH"].split(":")
    assert "/opt/homebrew/bin" in path and "/usr/local/bin" in path
    assert plist["WorkingDirectory"] == str(space.config_path.absolute().parent)


def test_install_status_uninstall_with_systemd_print_every_command(space, tmp_path):
    tool = recorder(tmp_path, "systemctl")
    env = service_env(tmp_path, MECHANIC_SYSTEMCTL=str(tool))
    rendered = space.run("service", "install", "--dry-run", "--platform", "systemd").stdout

    install = space.run("service", "install", "--platform", "systemd", env=env)
    assert install.returncode == 0, install.stderr
    unit = tmp_path / "units" / "mechanic.service"
    assert unit.read_text() == rendered
    assert calls(tool) == ["--user daemon-reload", "--user enable --now mechanic.service"]
    assert f"$ {tool} --user daemon-reload\n" in install.stdout
    assert f"$ {tool} --user enable --now mechanic.service\n" in install.stdout
    assert "journalctl --user -u mechanic -f" in install.stdout

    status = space.run("service", "status", "--platform", "systemd", env=env)
    assert status.returncode == 0, status.stdout
    assert f"{unit} (installed)" in status.stdout and "running" in status.stdout

    uninstall = space.run("service", "uninstall", "--platform", "systemd", env=env)
    assert uninstall.returncode == 0, uninstall.stderr
    assert not unit.exists()
    assert calls(tool)[-2:] == ["--user disable --now mechanic.service", "--user daemon-reload"]
    status = space.run("service", "status", "--platform", "systemd", env=env)
    assert status.returncode == 1 and "not installed" in status.stdout


def test_install_with_launchd_bootstraps_the_agent(space, tmp_path):
    tool = recorder(tmp_path, "launchctl", loaded=False)
    env = service_env(tmp_path, MECHANIC_LAUNCHCTL=str(tool))
    install = space.run("service", "install", "--platform", "launchd", env=env)
    assert install.returncode == 0, install.stderr
    plist = tmp_path / "units" / "local.mechanic.plist"
    assert plistlib.loads(plist.read_bytes())["Label"] == "local.mechanic"
    domain = f"gui/{os.getuid()}"
    assert calls(tool)[-1] == f"bootstrap {domain} {plist}"
    assert f"$ {shlex.join([str(tool), 'bootstrap', domain, str(plist)])}\n" in install.stdout
    assert (tmp_path / "home" / "Library" / "Logs" / "mechanic").is_dir()

    uninstall = space.run("service", "uninstall", "--platform", "launchd", env=env)
    assert uninstall.returncode == 0
    assert calls(tool)[-1] == f"bootout {domain} {plist}"
    assert not plist.exists()


def test_install_without_systemctl_says_so_and_exits_non_zero(space, tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = service_env(tmp_path, PATH=str(empty))
    result = space.run("service", "install", "--platform", "systemd", env=env)
    assert result.returncode == 1
    assert "systemctl is not on PATH" in result.stderr
    assert (tmp_path / "units" / "mechanic.service").exists()  # written, ready for later


# --- doctor ---------------------------------------------------------------


def doctor(space: Workspace, tmp_path: Path, **env: str):
    return space.run("doctor", env=service_env(tmp_path, **env))


def test_doctor_is_content_when_everything_is_in_place(workspace, ollama_standin, tmp_path):
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    workspace.file("worker.js", "module.exports = 1;\n")
    result = doctor(workspace, tmp_path)
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok") and "qwen2.5-coder:7b" in line for line in lines)
    assert any(line.startswith("ok") and "node" in line for line in lines)
    assert any("inotify" in line for line in lines) or sys.platform == "darwin"
    assert "mechanic service install" in result.stdout  # not installed: a note with its fix
    assert lines[-1] == "0 problems"


def test_doctor_names_each_problem_with_its_fix(workspace, ollama_standin, tmp_path):
    blocker = workspace.root / "not-a-folder"
    blocker.write_text("")
    workspace.write_config(
        mechanic={"state_dir": "not-a-folder/state", "node": "/nonexistent/node"},
        llm={"backend": "ollama", "host": ollama_standin.url, "model": "nope:1b"},
    )
    workspace.file("worker.js", "module.exports = 1;\n")
    result = doctor(workspace, tmp_path)
    assert result.returncode == 1
    out = result.stdout
    assert "fix: ollama pull nope:1b" in out
    assert "mechanic.node /nonexistent/node is not an executable file" in out
    assert "state_dir" in out and "fix: mkdir -p" in out
    assert out.splitlines()[-1] == "3 problems"


def test_doctor_when_ollama_is_down_says_how_to_start_it(workspace, tmp_path):
    workspace.write_config(llm={"backend": "ollama", "host": "http://127.0.0.1:9"})
    result = doctor(workspace, tmp_path)
    assert result.returncode == 1
    assert "cannot reach Ollama" in result.stdout and "fix: ollama serve" in result.stdout


def test_doctor_on_a_broken_config_names_the_line_and_exits_2(workspace, tmp_path):
    workspace.write_config(raw="[mechanic]\n")  # a second [mechanic] table: invalid TOML
    result = doctor(workspace, tmp_path)
    assert result.returncode == 2
    assert "problem  config" in result.stdout and "fix: edit" in result.stdout


def test_doctor_reports_an_installed_service_that_is_not_running(workspace, tmp_path):
    tool = recorder(tmp_path, "systemctl", active=False)
    env = {"MECHANIC_SYSTEMCTL": str(tool)}
    installed = workspace.run(
        "service", "install", "--platform", "systemd", env=service_env(tmp_path, **env)
    )
    assert installed.returncode == 0, installed.stderr
    if sys.platform == "darwin":
        pytest.skip("doctor checks launchd on macOS")
    result = doctor(workspace, tmp_path, **env)
    assert "is installed but not running" in result.stdout
    assert "fix: systemctl --user restart mechanic" in result.stdout
    assert result.returncode == 1


def test_a_failing_systemctl_is_reported_with_its_output_and_a_hint(space, tmp_path):
    tool = tmp_path / "bin" / "systemctl"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\necho 'Failed to connect to bus: No medium found' >&2\nexit 1\n")
    tool.chmod(0o755)
    env = service_env(tmp_path, MECHANIC_SYSTEMCTL=str(tool))
    result = space.run("service", "install", "--platform", "systemd", env=env)
    assert result.returncode == 1
    assert "Failed to connect to bus" in result.stdout  # the tool's own words, shown
    assert "daemon-reload failed (exit 1)" in result.stderr
    assert "loginctl enable-linger" in result.stderr
