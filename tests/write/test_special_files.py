"""A watched file swapped for a FIFO, socket, device or folder, at any step of a
repair, never blocks a cycle: the path is left as it was made, the reason is on
the record, and the next cycle runs. Every case runs in a process of its own
with a timeout, so a read that blocks fails the test instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.ollama_standin import Reply
from tests.support.swap_driver import KINDS
from tests.support.workspace import REPO

DRIVER = REPO / "tests" / "support" / "swap_driver.py"
BROKEN = "def total(items):\n    return sum(items\n"
FIXED = "def total(items):\n    return sum(items)\n"
# What each swap leaves at the path, as a reader following links sees it.
SEEN_AS = {
    "fifo": "a FIFO",
    "socket": "a socket",
    "device": "a character device",
    "device-link": "a character device",
    "folder": "a folder",
}


def drive(step: str, tmp_path: Path) -> dict[str, dict]:
    """Run the swap driver for `step` over every kind; a blocked read times out."""
    done = subprocess.run(
        [sys.executable, str(DRIVER), step, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    results = {}
    for line in done.stdout.splitlines():
        results.update(json.loads(line))
    assert set(results) == set(KINDS), done.stderr[-2000:]
    return results


def assert_left_alone(results: dict[str, dict], *reason_words: str) -> None:
    for what, report in results.items():
        assert "crashed" not in report, (what, report)
        assert report["now"] == SEEN_AS[what], (what, report)
        for word in reason_words:
            assert word in report["reason"], (what, report)


@pytest.mark.parametrize(
    "step",
    ["validation", "backup", "intent"],
    ids=["between-validation-and-rename", "after-the-backup", "after-the-intent"],
)
def test_a_swap_before_the_rename_is_never_read_nor_replaced(step, tmp_path):
    results = drive(step, tmp_path)
    assert_left_alone(results, "changed by someone", "left alone")
    for what, report in results.items():
        assert report["outcome"] == "skipped", (what, report)
        assert f"now not a regular file ({SEEN_AS[what]})" in report["reason"], (what, report)


def test_a_swap_right_after_the_write_is_left_as_it_was_made(tmp_path):
    results = drive("check-on-disk", tmp_path)
    assert_left_alone(results, "left as it is")
    for what, report in results.items():
        assert report["outcome"] == "reverted", (what, report)
        assert "restored" not in report["reason"], (what, report)


def test_a_swap_before_the_repair_reads_the_file_is_reported(tmp_path):
    results = drive("read", tmp_path)
    for what, report in results.items():
        reason = f"cannot read the file: not a regular file ({SEEN_AS[what]})"
        assert report["reason"] == reason, (what, report)
    assert_left_alone(results)


def test_the_zero_token_rung_leaves_a_swapped_file_to_the_repair_step(tmp_path):
    results = drive("zero-token", tmp_path)
    assert_left_alone(results, "nothing attempted")


def test_a_swap_between_the_walk_and_the_read_is_skipped_with_its_reason(tmp_path):
    results = drive("scan", tmp_path)
    assert_left_alone(results)
    for what, report in results.items():
        assert report["reason"] == f"unreadable: not a regular file ({SEEN_AS[what]})", what
        assert report["findings"] == 0, (what, report)


def test_revert_refuses_a_swapped_file_and_a_swapped_backup(tmp_path):
    target = drive("revert", tmp_path / "target")
    assert_left_alone(target, "cannot read", "not a regular file")
    backup = drive("revert-backup", tmp_path / "backup")
    for what, report in backup.items():
        assert "crashed" not in report, (what, report)
        assert report["now"] == "a regular file", (what, report)  # the fix stays
        assert report["swapped_is_now"] == SEEN_AS[what], (what, report)
        assert "cannot read the backup" in report["reason"], (what, report)
        assert f"not a regular file ({SEEN_AS[what]})" in report["reason"], (what, report)


def test_recovery_leaves_a_file_swapped_after_a_kill_alone(tmp_path):
    results = drive("recovery", tmp_path)
    assert_left_alone(results, "left: cannot read it: not a regular file")


# --- the whole cycle, as a user runs it ---------------------------------------


def make(path: Path, what: str) -> None:
    """The swap a person makes: `rm path; mkfifo path` and its siblings (devices
    here are /dev/null's numbers: harmless even to a reader that never checks)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    if what == "fifo":
        os.mkfifo(path)
    elif what == "socket":
        server = socket.socket(socket.AF_UNIX)
        with contextlib.chdir(path.parent):  # AF_UNIX names are short (108 bytes)
            server.bind(path.name)
        server.close()  # the socket file stays
    elif what == "device":
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    elif what == "device-link":  # a link to a device beside it, inside the watch root
        os.mknod(path.with_name(".null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
        os.symlink(".null", path)
    else:
        path.mkdir()


def is_kind(path: Path, what: str) -> bool:
    mode = os.stat(path).st_mode
    return {
        "fifo": stat.S_ISFIFO,
        "socket": stat.S_ISSOCK,
        "device": stat.S_ISCHR,
        "device-link": stat.S_ISCHR,
        "folder": stat.S_ISDIR,
    }[what](mode)


@pytest.mark.parametrize("what", KINDS)
def test_a_file_swapped_during_the_model_call_never_hangs_the_cycle(
    what, workspace, ollama_standin
):
    workspace.write_config(
        llm={"backend": "ollama", "host": ollama_standin.url, "timeout_seconds": 20},
        repair={"deterministic": False, "mode": "whole"},
    )
    path = workspace.file("app.py", BROKEN)
    # While the model answers (slowly): `rm src/app.py; mkfifo src/app.py`.
    ollama_standin.reply(Reply(FIXED, delay_seconds=0.5, on_request=lambda _r: make(path, what)))
    first = workspace.run("once", "--json", timeout=30)
    assert first.returncode in (0, 1), first.stderr
    attempt = first.attempts()["app.py"]
    assert attempt["outcome"] == "skipped"
    assert f"now not a regular file ({SEEN_AS[what]})" in attempt["reason"]
    assert is_kind(path, what)
    assert workspace.backups_of("app.py") == []  # nothing was written, nothing backed up
    # The cycle lock went with the cycle: the next one runs, and leaves the path alone.
    second = workspace.run("once", "--json", timeout=30)
    assert second.returncode in (0, 1), second.stderr
    assert "another mechanic cycle" not in second.stderr
    assert is_kind(path, what)


def test_revert_of_a_file_swapped_since_its_fix_refuses_and_says_why(workspace):
    workspace.write_config()  # backend none: the zero-token rung fixes a missing paren
    path = workspace.file("app.py", BROKEN)
    [attempt] = workspace.run("once", "--json").json["attempts"]
    assert attempt["outcome"] == "applied", attempt
    os.unlink(path)
    os.mkfifo(path)
    result = workspace.run("revert", str(attempt["id"]), timeout=30)
    assert result.returncode == 1
    assert "not a regular file (a FIFO)" in result.stderr
    assert stat.S_ISFIFO(os.stat(path).st_mode)


# --- the helper itself ----------------------------------------------------------


def test_the_reader_refuses_every_kind_of_special_file_without_blocking(tmp_path):
    # In a child process with a timeout: on a blocking reader this fails, not hangs.
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1]);"
        "from swap_driver import swap, KINDS; from pathlib import Path;"
        "from mechanic.files.userfile import read_regular\n"
        "for what in KINDS:\n"
        "    path = Path(sys.argv[2], what); swap(path, what)\n"
        "    try: read_regular(path); print(json.dumps([what, 'read']))\n"
        "    except OSError as exc: print(json.dumps([what, exc.strerror]), flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(DRIVER.parent), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    seen = dict(json.loads(line) for line in done.stdout.splitlines())
    assert seen == {what: f"not a regular file ({SEEN_AS[what]})" for what in KINDS}, done.stderr


def test_the_reader_reads_a_regular_file_through_a_link(tmp_path):
    from mechanic.files.userfile import NotRegularFile, read_regular

    real = tmp_path / "real.py"
    real.write_bytes(b"x = 1\n")
    (tmp_path / "link.py").symlink_to(real)
    assert read_regular(tmp_path / "link.py") == b"x = 1\n"
    with pytest.raises(NotRegularFile, match=r"not a regular file \(a folder\)"):
        read_regular(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing.py")


def test_the_test_copy_keeps_bytes_mode_and_times_and_refuses_a_fifo(tmp_path):
    from mechanic.files.userfile import NotRegularFile, copy_regular

    source = tmp_path / "a.py"
    source.write_bytes(b"x = 1\n" * 1000)
    os.chmod(source, 0o640)
    os.utime(source, ns=(1_000_000_000, 2_000_000_000))
    copy = tmp_path / "copy.py"
    assert copy_regular(source, copy) == 6000
    assert copy.read_bytes() == source.read_bytes()
    assert stat.S_IMODE(os.stat(copy).st_mode) == 0o640
    assert os.stat(copy).st_mtime_ns == 2_000_000_000
    os.mkfifo(tmp_path / "pipe.py")
    with pytest.raises(NotRegularFile, match="a FIFO"):
        copy_regular(tmp_path / "pipe.py", tmp_path / "pipe-copy.py")
    assert not (tmp_path / "pipe-copy.py").exists()
