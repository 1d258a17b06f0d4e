"""Which files are watched, and which are protected."""

from __future__ import annotations

from mechanic.config.load import load_config
from mechanic.detect.discovery import Finder, Guard


def finder(workspace, **watch) -> Finder:
    workspace.write_config(watch=watch or None, mechanic={"protected": ["core.js", "/top.py"]})
    return Finder(load_config(workspace.config_path))


def rels(workspace, **watch):
    return {f.rel: f for f in finder(workspace, **watch).files()}


def protected(workspace) -> dict[str, bool]:
    found = finder(workspace)
    return {f.rel: found.guard.is_protected(f.path) for f in found.files()}


def test_include_and_exclude_globs_choose_the_files(workspace):
    workspace.file("a.py", "x = 1\n")
    workspace.file("lib/b.js", "x = 1;\n")
    workspace.file("lib/node_modules/dep/index.js", "x = 1;\n")
    workspace.file("notes.txt", "hello\n")
    workspace.file(".git/hooks/pre-commit.py", "x = 1\n")
    found = rels(workspace)
    assert set(found) == {"a.py", "lib/b.js"}
    assert found["lib/b.js"].language == "javascript"


def test_a_narrower_include_is_respected(workspace):
    workspace.file("a.py", "x = 1\n")
    workspace.file("b.js", "x = 1;\n")
    assert set(rels(workspace, include=["**/*.py"])) == {"a.py"}


def test_a_bare_name_is_protected_in_any_folder_and_a_slash_anchors_it(workspace):
    workspace.file("core.js", "x;\n")
    workspace.file("deep/er/core.js", "x;\n")
    workspace.file("top.py", "x = 1\n")
    workspace.file("sub/top.py", "x = 1\n")
    found = protected(workspace)
    assert found["core.js"] and found["deep/er/core.js"]
    assert found["top.py"]
    assert not found["sub/top.py"]


def test_secret_looking_files_are_protected_without_configuration(tmp_path):
    guard = Guard([], [tmp_path])
    for name in (".env", ".env.local", "server.pem", "id_rsa", "credentials.json"):
        (tmp_path / name).write_text("x")
        assert guard.is_protected(tmp_path / name), name
    (tmp_path / "app.py").write_text("x")
    assert not guard.is_protected(tmp_path / "app.py")


def test_a_link_leading_out_of_the_watch_root_is_ignored(workspace, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("def f(:\n")
    (workspace.src / "inside.py").symlink_to(outside)
    assert "inside.py" not in rels(workspace)


def test_a_link_to_a_protected_file_is_protected(workspace):
    workspace.file("core.js", "x;\n")
    (workspace.src / "alias.js").symlink_to(workspace.src / "core.js")
    found = finder(workspace)
    # the same file is listed once, under one of its names, and protected
    listed = [f for f in found.files() if f.real.name == "core.js"]
    assert len(listed) == 1 and found.guard.is_protected(listed[0].path)
    assert found.guard.is_protected(workspace.src / "alias.js")


def test_a_linked_folder_is_not_followed(workspace, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.py").write_text("x = 1\n")
    (workspace.src / "linked").symlink_to(elsewhere)
    assert rels(workspace) == {}


def test_lookup_applies_the_walks_rules_to_one_path(workspace):
    from mechanic.config.load import load_config
    from mechanic.detect.discovery import Finder

    workspace.write_config(watch={"exclude": ["**/vendor/**", "skip.js"]})
    kept = workspace.file("lib/ok.js", "1;\n")
    workspace.file("lib/vendor/dep.js", "1;\n")
    workspace.file("skip.js", "1;\n")
    workspace.file("notes.txt", "hi\n")
    finder = Finder(load_config(workspace.config_path))
    walked = {f.real for f in finder.files()}
    for path in workspace.src.rglob("*"):
        found = finder.lookup(path) if path.is_file() else None
        assert (found is not None) == (path.resolve() in walked), path
    found = finder.lookup(workspace.src / "lib" / ".." / "lib" / "ok.js")
    assert found is not None and found.real == kept.resolve() and found.rel == "lib/ok.js"
    assert finder.lookup(workspace.root / "config.toml") is None
