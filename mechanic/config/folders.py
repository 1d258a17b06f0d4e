"""The folders mechanic writes (`state_dir`, `backup_dir`), checked before any work."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mechanic.config.locate import locate
from mechanic.config.settings import Config
from mechanic.errors import ConfigError
from mechanic.files.private import make_folder


def check_folders(config: Config) -> None:
    """Make sure `state_dir` (created here) and `backup_dir` can be written.

    Raises ConfigError naming the key, before any work: a state folder that is a
    file, or sits on a read-only mount, would otherwise surface as a traceback from
    whichever step first writes there. Permission bits alone prove nothing (root
    ignores them), so an existing folder is tested by creating a file in it.
    """
    settings = config.mechanic
    folders = (("state_dir", settings.state_dir, True), ("backup_dir", settings.backup_dir, False))
    for name, path, create in folders:
        problem = _folder_problem(path, create=create)
        if problem:
            line = None
            try:
                text = config.source.read_text(encoding="utf-8", errors="replace")
                line = locate(text.splitlines(), "mechanic", name, None)
            except OSError:
                pass
            raise ConfigError(problem, key=f"mechanic.{name}", file=config.source, line=line)


def _folder_problem(path: Path, *, create: bool) -> str | None:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "is" if existing == path else f"cannot be made: {existing}, on its way, is"
        return f"{path} {what} a file, not a folder"
    if existing != path and not create:
        # Not created yet (the first fix makes it): judge the folder it will be made in.
        if not os.access(existing, os.W_OK | os.X_OK) or _read_only_mount(existing):
            return f"{path} cannot be made: {existing} is read-only"
        return None
    try:
        make_folder(path)  # 0700 like every folder mechanic makes: it will hold copies of code
    except OSError as exc:
        return f"{path} cannot be created: {exc.strerror or exc}"
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".mechanic-write-test-"):
            pass
    except OSError as exc:
        return f"{path} cannot be written in: {exc.strerror or exc}"
    return None


def _read_only_mount(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False
