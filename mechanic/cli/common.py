"""Helpers every command module shares: the exit codes, the config, the log, names."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mechanic.config.folders import check_folders
from mechanic.config.load import find_config, load_config
from mechanic.config.settings import Config
from mechanic.files.names import shown

# The exit codes README.md's command table documents; `main` maps every error to one.
EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2
EXIT_BUSY = 3  # another cycle or daemon holds the state folder: nothing was judged
EXIT_INTERRUPTED = 130  # Ctrl-C


def config_of(args: argparse.Namespace) -> Config:
    """The config `--config` names (or the default one), loaded and checked."""
    config = load_config(find_config(args.config))
    check_folders(config)  # a state_dir that is a file or read-only: exit 2, not a traceback
    return config


def setup_logging(config: Config, *, quiet: bool = False) -> None:
    from mechanic import log

    console = None if quiet else sys.stderr
    log.configure(config.mechanic.state_dir, console=console, max_mb=config.mechanic.log_max_mb)


def rel(path: str | Path, config: Config) -> str:
    """A file's name for the console: relative to its watch root, and `shown`
    (a name that is not UTF-8, or holds a newline, is escaped)."""
    path = Path(path)
    for watch in config.watches:
        root = Path(os.path.realpath(watch.path))
        if root in path.parents:
            return shown(path.relative_to(root))
    return shown(path)


def where(finding, config: Config) -> str:
    """path:line:column of a finding, for the console."""
    text = rel(finding.path, config)
    if finding.line:
        text += f":{finding.line}" + (f":{finding.column}" if finding.column else "")
    return text
