"""`protect add|remove|list`: edit the protected list in config.toml."""

from __future__ import annotations

import argparse

from mechanic.cli.common import (
    EXIT_OK,
)
from mechanic.config.load import find_config, load_config
from mechanic.errors import ConfigError


def cmd_protect(args: argparse.Namespace) -> int:
    from mechanic.config import edit as config_edit

    path = find_config(args.config)
    load_config(path)  # refuse to edit a config that does not load
    if args.action == "list":
        for pattern in config_edit.list_protected(path):
            print(pattern)
        return EXIT_OK
    if not args.pattern:
        raise ConfigError(f"`mechanic protect {args.action}` needs a PATTERN")
    if args.action == "add":
        changed = config_edit.add_protected(path, args.pattern)
        print(f"{'added' if changed else 'already protected:'} {args.pattern} ({path})")
    else:
        changed = config_edit.remove_protected(path, args.pattern)
        print(f"{'removed' if changed else 'not in the protected list:'} {args.pattern} ({path})")
    return EXIT_OK
