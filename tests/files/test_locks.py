"""The one pid lock behind the cycle lock and the daemon lock, across real processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mechanic.files.locks import is_held, pid_lock

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from mechanic.files.locks import pid_lock
    with pid_lock(Path(sys.argv[1]), RuntimeError):
        print("held", flush=True)
        sys.stdin.readline()  # until the test lets go
    """
)


class Busy(Exception):
    pass


def test_a_second_holder_is_refused_at_once_with_the_holders_pid(tmp_path):
    lock = tmp_path / "state" / "x.lock"  # the folder is made as needed
    other = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout.readline() == "held\n"
        assert is_held(lock)
        with pytest.raises(Busy, match=f"^{other.pid}$"), pid_lock(lock, Busy):
            pass
    finally:
        other.communicate("\n", timeout=10)
    assert not is_held(lock)
    with pid_lock(lock, Busy):  # free again once the holder is gone
        assert is_held(lock)
    assert lock.read_text() == ""  # no pid left behind


def test_a_folder_that_cannot_be_made_goes_to_unusable(tmp_path):
    (tmp_path / "blocker").write_text("")
    lock = tmp_path / "blocker" / "state" / "x.lock"
    with (
        pytest.raises(Busy, match="state folder"),
        pid_lock(lock, Busy, lambda exc: Busy(f"state folder: {exc}")),
    ):
        pass
    with pytest.raises(OSError), pid_lock(lock, Busy):
        pass
    assert not is_held(lock) and not Path(lock).exists()
