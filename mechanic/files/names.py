"""File names as the OS gives them, and as people are shown them.

A name on Linux is any bytes but `/` and NUL. Python hands a name that is not
valid UTF-8 over as a str holding surrogate escapes (os.fsdecode): it opens the
same file again, but it cannot be encoded as UTF-8 text, so it cannot be printed
to a UTF-8 terminal, written into SQLite's TEXT or sent as valid JSON. Names may
also hold newlines, tabs or terminal control codes, which would break (or forge)
a line of output. `shown` is the one way mechanic writes a name for a reader.
"""

from __future__ import annotations

import os
from typing import Any

# Keys whose values are file names wherever mechanic prints JSON or logs an event.
NAME_KEYS = frozenset(
    {
        "file", "files", "path", "backup", "backup_path", "fix_path", "log", "log_path",
        "target", "root", "only", "kept",
    }
)  # fmt: skip
# What each escaped character becomes; everything else non-printable is \xNN or \uNNNN.
_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def shown(name: str | os.PathLike[str]) -> str:
    """`name` printable and on one line: a byte that is not UTF-8 as `\\xff`, a
    newline as `\\n`, a tab as `\\t`, other control and invisible characters as
    `\\xNN` / `\\uNNNN`, and a backslash doubled, so two different names never
    show the same. A plain name is returned as it is."""
    text = os.fspath(name)
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(_shown_char(c) for c in text)


def _shown_char(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char.isprintable():
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for the byte code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:  # \\x80 and up always mean a byte that is not UTF-8
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def readable(text: str) -> str:
    """Free text (a reason, an error message) that may quote a file name: each
    byte that is not UTF-8 as `\\xNN` and control codes other than newline and
    tab escaped, so it can be printed and sent as JSON; the rest as it is."""
    if text.isprintable():
        return text
    return "".join(c if c in "\n\t" or c.isprintable() else _shown_char(c) for c in text)


def for_json(value: Any) -> Any:
    """`value` (dicts, lists, strings...) ready for json.dumps and any reader: the
    values of NAME_KEYS `shown`, every other string `readable`."""
    if isinstance(value, dict):
        return {
            key: _names(item) if key in NAME_KEYS else for_json(item) for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [for_json(item) for item in value]
    if isinstance(value, str):
        return readable(value)
    return value


def _names(value: Any) -> Any:
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, (list, tuple)):
        return [_names(item) for item in value]
    return for_json(value)


def fit(name: str, max_bytes: int) -> str:
    """`name` cut to at most `max_bytes` bytes on disk (names are limited to 255
    bytes, so a name mechanic builds from a user's long name must be shortened).
    A cut through a multi-byte character leaves its first bytes, which is still
    a valid name."""
    data = os.fsencode(name)
    if len(data) <= max_bytes:
        return name
    return os.fsdecode(data[:max_bytes])
