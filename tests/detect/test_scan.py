"""Scanning: broken files become findings; unchanged clean files cost one stat."""

from __future__ import annotations

import os
import pathlib

import pytest

from mechanic.config.load import load_config
from mechanic.detect.checkers import CheckerSet
from mechanic.detect.discovery import Finder
from mechanic.detect.scan import scan
from mechanic.files import userfile
from mechanic.store import Store


@pytest.fixture
def scanner(workspace):
    def run(**kw):
        config = load_config(workspace.config_path)
        with (
            Store.open(config.mechanic.state_dir) as store,
            CheckerSet(node=config.mechanic.node) as checkers,
        ):
            return scan(Finder(config), checkers, store, max_file_bytes=kw.get("max", 1 << 20))

    return run


@pytest.fixture
def reads(monkeypatch):
    """The files a scan opens (every read of a user's file goes through userfile)."""
    opened: list[str] = []
    original = userfile.open_regular

    def open_regular(path):
        if pathlib.Path(path).suffix != ".toml":  # the config itself is read on every load
            opened.append(pathlib.Path(path).name)
        return original(path)

    monkeypatch.setattr(userfile, "open_regular", open_regular)
    return opened


def test_broken_files_become_findings_with_a_location(workspace, scanner):
    workspace.file("ok.py", "x = 1\n")
    workspace.file("bad.py", "x = 1\ny = (\n")
    result = scanner()
    assert len(result.files) == 2
    [(path, finding)] = result.findings.items()
    assert path.name == "bad.py"
    assert finding.line == 2


def test_a_warm_scan_opens_no_clean_unchanged_file(workspace, scanner, reads):
    for n in range(20):
        workspace.file(f"m{n}.py", f"x = {n}\n")
    assert scanner().checked == 20
    reads.clear()
    result = scanner()
    assert result.checked == 0
    assert reads == []


def test_a_touched_but_unchanged_file_is_read_but_not_checked_again(workspace, scanner, reads):
    path = workspace.file("m.py", "x = 1\n")
    scanner()
    os.utime(path, ns=(1, 1))
    reads.clear()
    assert scanner().checked == 0
    assert reads == ["m.py"]
    reads.clear()
    scanner()
    assert reads == []  # the new stat was remembered


def test_a_changed_file_is_checked_again(workspace, scanner):
    path = workspace.file("m.py", "x = 1\n")
    scanner()
    path.write_text("x = (\n")
    result = scanner()
    assert result.checked == 1 and len(result.findings) == 1


def test_a_broken_file_is_checked_every_time(workspace, scanner):
    workspace.file("bad.py", "x = (\n")
    scanner()
    assert scanner().checked == 1


def test_oversized_files_are_skipped_with_a_reason(workspace, scanner):
    workspace.file("big.py", "x = 1\n" * 1000)
    result = scanner(max=1000)
    assert result.findings == {}
    [(path, reason)] = result.skipped.items()
    assert path.name == "big.py" and "max_file_kb" in reason


def test_a_missing_tool_leaves_its_language_unchecked_not_clean(workspace, scanner):
    workspace.write_config(mechanic={"node": "/nonexistent/node"})
    workspace.file("a.js", "const a = ;\n")
    workspace.file("b.py", "x = (\n")
    result = scanner()
    assert "javascript" in result.unavailable
    assert [p.name for p in result.findings] == ["b.py"]
