"""Every error a user can meet is a MechanicError, caught once in the CLI's main:
one line on stderr naming the problem, the documented exit code, never a traceback."""

from __future__ import annotations

import argparse
import sys

import pytest

from mechanic import errors
from mechanic.cli import main as cli

# Each error class, one made the way mechanic raises it, the words its line must
# hold, and the exit code README.md's command table gives it.
RAISED: dict[type[errors.MechanicError], tuple[errors.MechanicError, str, int]] = {
    errors.MechanicError: (errors.MechanicError("cannot use the state folder /x"), "/x", 1),
    errors.ConfigError: (
        errors.ConfigError("must be from 0 to 2, got 7", key="llm.temperature", line=12),
        "llm.temperature: must be from 0 to 2",
        2,
    ),
    errors.ProbeConfigError: (
        errors.ProbeConfigError("min_count", "must be at least 1"),
        "min_count: must be at least 1",
        2,
    ),
    errors.Busy: (errors.Busy("the state folder is held"), "is held", 3),
    errors.CycleBusy: (
        errors.CycleBusy("another mechanic cycle is running (pid 42)"),
        "cycle is running (pid 42)",
        3,
    ),
    errors.DaemonRunning: (
        errors.DaemonRunning("another mechanic daemon is already running (pid 7)"),
        "daemon is already running",
        3,
    ),
    errors.StoreError: (errors.StoreError("the store is locked"), "store is locked", 1),
    errors.StoreUnusable: (
        errors.StoreUnusable("mechanic.sqlite3 is not a mechanic store"),
        "mechanic store check --rebuild",
        2,
    ),
    errors.Refused: (
        errors.Refused("a.py changed since the fix was applied"),
        "a.py changed since",
        1,
    ),
    errors.ReviewError: (errors.ReviewError("no pending patch #9"), "patch #9", 1),
    errors.NotDone: (
        errors.NotDone("attempt #3 was already reverted"),
        "#3 was already reverted",
        1,
    ),
    errors.ServiceError: (
        errors.ServiceError("systemctl --user daemon-reload failed (exit 1)"),
        "daemon-reload failed",
        1,
    ),
    errors.CheckerUnavailable: (
        errors.CheckerUnavailable("node is not installed"),
        "node is not installed",
        1,
    ),
    errors.BackendError: (errors.BackendError("the model failed"), "model failed", 1),
    errors.BackendUnavailable: (
        errors.BackendUnavailable("nothing listens at http://127.0.0.1:1"),
        "nothing listens",
        1,
    ),
    errors.ModelNotFound: (errors.ModelNotFound("no model qwen"), "no model qwen", 1),
    errors.BackendTimeout: (errors.BackendTimeout("no answer within 5 s"), "within 5 s", 1),
    errors.BackendResponseError: (
        errors.BackendResponseError("the server answered 500", 500),
        "answered 500",
        1,
    ),
}


def _all_errors(cls: type[errors.MechanicError]) -> set[type[errors.MechanicError]]:
    found = {cls}
    for sub in cls.__subclasses__():
        found |= _all_errors(sub)
    return found


def test_every_error_class_in_the_hierarchy_has_a_documented_exit_code():
    in_errors_py = {
        c for c in _all_errors(errors.MechanicError) if c.__module__ == "mechanic.errors"
    }
    assert in_errors_py == set(RAISED)


@pytest.mark.parametrize("error_class", [c for c in RAISED], ids=[c.__name__ for c in RAISED])
def test_an_error_a_command_raises_is_one_line_and_its_exit_code(
    error_class, workspace, monkeypatch, capsys
):
    error, words, code = RAISED[error_class]

    def command(args: argparse.Namespace) -> int:
        raise error

    # Replace the command `status` runs where it lives, so the real parser and the
    # real main carry the error.
    namespace = cli.build_parser().parse_args(["status"])
    monkeypatch.setattr(sys.modules[namespace.func.__module__], namespace.func.__name__, command)
    assert cli.main(["status", "--config", str(workspace.config_path)]) == code
    out = capsys.readouterr()
    assert out.err.startswith("mechanic: ") and words in out.err, out.err
    assert "Traceback" not in out.err and out.out == ""


def test_errors_from_outside_errors_py_are_gone():
    """The classes that used to live beside their raisers are errors.py's now."""
    from mechanic.daemon import main as daemon
    from mechanic.daemon import service
    from mechanic.write import review, transaction
    from probes import base

    assert transaction.Refused is errors.Refused
    assert review.ReviewError is errors.ReviewError
    assert service.ServiceError is errors.ServiceError
    assert daemon.DaemonRunning is errors.DaemonRunning
    assert not hasattr(base, "ProbeConfigError") or base.ProbeConfigError is errors.ProbeConfigError


def test_a_refused_revert_says_so_through_main(workspace):
    """A real error from a real command: reverting an attempt that does not exist."""
    result = workspace.run("revert", "99")
    assert result.returncode == 1
    assert result.stderr.startswith("mechanic: no attempt #99") and "Traceback" not in result.stderr
