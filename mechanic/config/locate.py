"""The line of config.toml a key is on, so an error can point a person at it.

Best effort, by reading the text (tomllib keeps no positions): a header
`[table]` or the index-th `[[table]]`, then `key =` before the next header.
"""

from __future__ import annotations

import re

from mechanic.config.settings import Config
from mechanic.errors import ConfigError


def locate(lines: list[str], table: str | None, key: str | None, index: int | None) -> int | None:
    """Best-effort line number of `key` in `[table]` (or the index-th [[table]])."""
    start, seen = 0, -1
    if table is not None:
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
        for number, line in enumerate(lines):
            if header.match(line):
                seen += 1
                if index is None or seen == index:
                    start = number
                    break
        else:
            return None
        if key is None:
            return start + 1
    if key is None:
        return None
    pattern = re.compile(rf"^\s*(\"{re.escape(key)}\"|{re.escape(key)})\s*=")
    table_header = re.compile(rf"^\s*\[\[?\s*{re.escape(key)}\s*[\].]")
    for number in range(start, len(lines)):
        line = lines[number]
        if number > start and table is not None and line.lstrip().startswith("["):
            break
        if pattern.match(line) or (table is None and table_header.match(line)):
            return number + 1
    return None


def located_error(config: Config, key: str, message: str, table: str, index: int) -> ConfigError:
    """A ConfigError about `key` of the index-th [[table]], with its line when found."""
    line = None
    try:
        text = config.source.read_text(encoding="utf-8", errors="replace")
        lines = text.splitlines()
        line = locate(lines, table, key.rsplit(".", 1)[-1], index)
        line = line or locate(lines, table, None, index)
    except OSError:
        pass
    return ConfigError(message, key=key, file=config.source, line=line)
