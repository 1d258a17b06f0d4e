"""Odd files and paths: a repaired file keeps its encoding, BOM, line endings,
final newline, tabs and trailing blanks whatever the model answered; binary,
oversized and unreadable files are skipped with a reason; links, `..` and
case tricks never let a protected or outside file into a prompt or a write."""

from __future__ import annotations

import codecs
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from mechanic.detect.discovery import Guard
from mechanic.write.textfile import decode, encode
from tests.support.ollama_standin import Reply

BOM = codecs.BOM_UTF8

# (original bytes, what a model typically answers: LF, spaces, a fence, no BOM,
#  a final newline), and the bytes the fixed file must hold.
CASES = {
    "crlf-bom-no-final-newline": (
        BOM + b"def f(:\r\n    return 1",
        "```python\ndef f():\n    return 1\n```",
        BOM + b"def f():\r\n    return 1",
    ),
    "mixed-line-endings": (
        b"a = 1\r\nb = 2\nc = (\r\nd = 4\n",
        "a = 1\nb = 2\nc = ()\nd = 4\n",
        b"a = 1\r\nb = 2\nc = ()\r\nd = 4\n",
    ),
    "tabs": (
        b"def f(x):\n\tif x:\n\t\treturn 1\n\treturn (\n",
        "def f(x):\n    if x:\n        return 1\n    return ()\n",
        b"def f(x):\n\tif x:\n\t\treturn 1\n\treturn ()\n",
    ),
    "trailing-blanks": (
        b"x = 1   \ny = (\n",
        "x = 1\ny = ()\n",
        b"x = 1   \ny = ()\n",
    ),
    "lone-cr": (
        b"x = 1\ry = (\r",
        "x = 1\ny = ()\n",
        b"x = 1\ry = ()\r",
    ),
    "coding-declaration": (
        "# -*- coding: cp1252 -*-\nprice = '\u20ac 5'\nx = (\n".encode("cp1252"),
        "# -*- coding: cp1252 -*-\nprice = '\u20ac 5'\nx = ()\n",
        "# -*- coding: cp1252 -*-\nprice = '\u20ac 5'\nx = ()\n".encode("cp1252"),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_repaired_file_keeps_its_own_format(workspace, ollama_standin, case):
    original, answer, expected = CASES[case]
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    path = workspace.file("odd.py", original)
    ollama_standin.reply(answer)
    attempt = workspace.run("once", "--json").attempts()["odd.py"]
    assert attempt["outcome"] == "applied", attempt
    assert path.read_bytes() == expected


def test_a_fix_that_turns_a_tab_mixture_into_spaces_is_not_undone():
    original = b"if x:\n\ty = 1\n        z = 2\n"  # TabError: tabs and spaces mixed
    _text, fmt = decode(original, "python")
    fixed = "if x:\n    y = 1\n    z = 2\n"
    assert encode(fixed, fmt) == fixed.encode()


def test_trailing_blanks_after_a_backslash_are_not_put_back():
    _text, fmt = decode(b"x = 1 + \\  \n    2\ny = (\n", "python")
    assert encode("x = 1 + \\\n    2\ny = ()\n", fmt) == b"x = 1 + \\\n    2\ny = ()\n"


def once(workspace, ollama_standin, **mechanic):
    workspace.write_config(
        llm={"backend": "ollama", "host": ollama_standin.url}, mechanic=mechanic or None
    )
    ollama_standin.reply("x = ()\n")
    return workspace.run("once", "--json").json


def test_binary_and_oversized_files_are_skipped_with_a_reason(workspace, ollama_standin):
    binary = workspace.file("blob.py", b"\x7fELF\x00\x01\x02 x = (\n")
    big = workspace.file("big.py", b"x = (\n" + b"# padding\n" * 300)
    report = once(workspace, ollama_standin, max_file_kb=1)
    skipped = {item["file"]: item["reason"] for item in report["skipped_files"]}
    assert "binary content" in skipped[str(binary)]
    assert "larger than max_file_kb" in skipped[str(big)]
    assert ollama_standin.inference_count == 0
    assert binary.read_bytes() == b"\x7fELF\x00\x01\x02 x = (\n"


def unreadable_verdict(space: Path) -> str:
    """What a scan says about an unreadable file. Root reads every file, so
    as root the scan runs in a forked child that dropped to user nobody."""
    from mechanic.config.load import load_config
    from mechanic.detect.checkers import CheckerSet
    from mechanic.detect.discovery import Finder
    from mechanic.detect.scan import scan
    from mechanic.store import Store

    def verdict() -> str:
        config = load_config(space / "config.toml")
        with Store.open(config.mechanic.state_dir) as store, CheckerSet() as checkers:
            result = scan(Finder(config), checkers, store, max_file_bytes=10**6)
        return result.skipped.get(space / "src" / "locked.py", "not skipped")

    if os.geteuid() != 0:
        return verdict()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        try:
            os.setgid(65534)
            os.setuid(65534)
            os.write(writer, verdict().encode())
        except BaseException as exc:
            os.write(writer, f"child failed: {exc!r}".encode())
        finally:
            os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader, "rb") as handle:
        return handle.read().decode()


def test_an_unreadable_file_is_skipped_with_a_reason(tmp_path):
    space = Path(tempfile.mkdtemp(dir="/tmp"))  # not under root's private pytest folder
    try:
        (space / "src").mkdir()
        (space / "state").mkdir()
        (space / "src" / "ok.py").write_text("x = 1\n")
        locked = space / "src" / "locked.py"
        locked.write_text("x = (\n")
        locked.chmod(0)
        (space / "config.toml").write_text(
            '[mechanic]\nstate_dir = "state"\n[llm]\nbackend = "none"\n[[watch]]\npath = "src"\n'
        )
        for folder in (space, space / "src"):
            folder.chmod(0o755)
        (space / "state").chmod(0o777)
        assert unreadable_verdict(space) == "unreadable: Permission denied"
    finally:
        shutil.rmtree(space)


def test_a_hard_linked_file_is_never_sent_nor_written(workspace, ollama_standin, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_bytes(b"API = (\n")
    inside = workspace.src / "linked.py"
    os.link(outside, inside)
    report = once(workspace, ollama_standin)
    held = {item["file"]: item["reason"] for item in report["held"]}
    assert "hard links" in held[str(inside)]
    assert ollama_standin.inference_count == 0
    assert outside.read_bytes() == b"API = (\n"
    assert os.stat(inside).st_nlink == 2


def test_dot_dot_segments_resolve_before_the_guard_decides(tmp_path):
    root = tmp_path / "src"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "outside.py").write_text("x = 1\n")
    guard = Guard([], [root])
    assert guard.is_protected(root / "sub" / ".." / ".." / "outside.py")
    assert not guard.is_protected(root / "sub" / ".." / "sub")


def test_case_tricks_do_not_dodge_a_protected_pattern(tmp_path):
    guard = Guard(["core.js", "lib/"], [tmp_path])
    for name in ("CORE.JS", "Core.js", "LIB/x.js", ".ENV", "Server.PEM", "ID_RSA"):
        assert guard.is_protected(tmp_path / name), name
    assert not guard.is_protected(tmp_path / "score.js")


def test_a_file_swapped_for_a_link_out_of_the_root_during_the_model_call_is_not_written(
    workspace, ollama_standin, tmp_path
):
    outside = tmp_path / "outside.py"
    outside.write_bytes(b"x = (\n")
    path = workspace.file("a.py", "x = (\n")

    def swap(_request):
        link = workspace.src / "a.py.tmp-link"
        link.symlink_to(outside)
        os.replace(link, path)

    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    ollama_standin.reply(Reply("x = ()\n", on_request=swap))
    attempt = workspace.run("once", "--json").attempts()["a.py"]
    assert attempt["outcome"] == "skipped"
    assert "outside every watch root" in attempt["reason"]
    assert outside.read_bytes() == b"x = (\n"
