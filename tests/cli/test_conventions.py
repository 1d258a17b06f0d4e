"""The command line keeps the conventions a user expects of a Unix tool: global options
anywhere, a `--help` that says what a command does and how it exits, and a
monitoring-plugin mode for `mechanic probe`."""

from __future__ import annotations

import re

import pytest

from tests.support.probe_kit import configure, probe_toml
from tests.support.services import free_port, silent_server


def subcommands(workspace) -> list[str]:
    """Every command `mechanic --help` lists."""
    text = workspace.run("--help").stdout
    listed = text.split("COMMAND\n", 2)[-1].split("\n\n")[0]
    return [line.split()[0] for line in listed.splitlines() if line.startswith("    ")]


def test_global_options_before_the_command_mean_what_they_mean_after_it(workspace):
    workspace.file("bad.py", "def f(:\n    return 1\n")
    config = str(workspace.config_path)
    for command in (["check"], ["status"], ["store", "check"]):
        after = workspace.run(*command, "--json", "--config", config)
        before = workspace.run("--config", config, "--json", *command)
        assert before.returncode == after.returncode, (command, before.stderr)
        assert before.json == after.json, command
    # once --dry-run -q: nothing on stderr, whichever side -q is on
    for args in (["-q", "once", "--dry-run"], ["once", "--dry-run", "-q"]):
        quiet = workspace.run(*args)
        assert quiet.returncode == 1 and quiet.stderr == "", (args, quiet.stderr)
        assert "bad.py" in quiet.stdout


def test_a_global_option_before_the_command_is_not_lost_to_its_default(workspace, tmp_path):
    # --config before the command must win over the command's own (absent) --config
    missing = tmp_path / "nowhere.toml"
    result = workspace.run("--config", str(missing), "status")
    assert result.returncode == 2
    assert result.stderr == f"mechanic: config error: {missing}: config file not found\n"


def test_a_global_option_the_command_does_not_take_is_a_usage_error(workspace):
    result = workspace.run("--json", "log")
    assert result.returncode == 2
    assert "--json is not an option of `mechanic log`" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_help_has_a_description_option_help_and_exit_codes(workspace):
    commands = subcommands(workspace)
    assert {"once", "probe", "status", "revert", "restore", "accept"} <= set(commands)
    for command in commands:
        result = workspace.run(command, "--help")
        assert result.returncode == 0, command
        usage, description, *rest = result.stdout.split("\n\n")
        assert usage.startswith(f"usage: mechanic {command}"), command
        assert len(description.split()) >= 8, (command, description)  # a sentence, not a name
        assert "exit codes:" in result.stdout, command
        codes = re.findall(r"^  (\d+) ", result.stdout.split("exit codes:")[1], re.M)
        assert "0" in codes and "2" in codes, (command, codes)
        for section in rest:
            if section.startswith(("options:", "positional arguments:")):
                assert_every_entry_has_help(command, section)


def assert_every_entry_has_help(command: str, section: str) -> None:
    lines = section.splitlines()[1:]
    for number, line in enumerate(lines):
        if not re.match(r"^  \S", line):
            continue  # a continuation of the entry above
        entry = re.match(r"^  (\S.*?)(\s{2,}\S.*)?$", line)
        assert entry is not None
        continued = number + 1 < len(lines) and re.match(r"^ {3,}\S", lines[number + 1])
        assert entry.group(2) or continued, f"mechanic {command}: {line.strip()} has no help"


# --- probe --nagios ------------------------------------------------------------------


def test_probe_nagios_says_ok_with_perfdata_and_exits_0(workspace):
    with silent_server() as port:
        configure(workspace, probe_toml("queue", "tcp", port=port))
        result = workspace.run("probe", "--nagios")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert re.fullmatch(r"MECHANIC PROBES OK - 1 probe ok \| queue=\d+ms", lines[0]), lines


def test_probe_nagios_says_critical_and_exits_2_when_a_probe_is_down(workspace):
    with silent_server() as port:
        configure(
            workspace,
            probe_toml("queue", "tcp", port=port),
            probe_toml("web", "http", url=f"http://127.0.0.1:{free_port()}/health"),
        )
        result = workspace.run("--config", str(workspace.config_path), "probe", "--nagios")
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("MECHANIC PROBES CRITICAL - web down: ")
    assert "refused" in line and "1 of 2 ok" in line
    assert re.search(r"\| queue=\d+ms web=\d+ms$", line), line


def test_probe_nagios_with_a_mistyped_option_is_unknown_not_critical(workspace):
    configure(workspace, probe_toml("queue", "tcp", port=free_port()))
    for args in (["--nagios", "--no-such-flag"], ["--nagios", "--json"]):
        result = workspace.run("probe", *args)
        assert result.returncode == 3, (args, result.stderr)
        assert result.stdout == "MECHANIC PROBES UNKNOWN - usage error (see stderr)\n"
        assert "mechanic: error: " in result.stderr, result.stderr


@pytest.mark.parametrize("names", [["nope"], []])
def test_probe_nagios_that_cannot_judge_exits_3_unknown(workspace, names):
    if names:  # an unknown name
        configure(workspace, probe_toml("queue", "tcp", port=free_port()))
    else:  # no probe at all: nothing judged is not OK
        configure(workspace)
    result = workspace.run("probe", "--nagios", *names)
    assert result.returncode == 3
    assert result.stdout.startswith("MECHANIC PROBES UNKNOWN - "), result.stdout
    assert ("no probe named nope" if names else "no [[probe]]") in result.stdout
