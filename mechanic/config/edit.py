"""Editing config.toml in place (`mechanic protect`), keeping comments and layout.

tomlkit round-trips a TOML document byte for byte except where it is changed,
which the standard library cannot do. The edited text is validated as a whole
before it replaces the file, so an edit never leaves a config mechanic refuses.
"""

from __future__ import annotations

import os
from pathlib import Path

import tomlkit

from mechanic.config.load import parse_config
from mechanic.config.schema import check_globs
from mechanic.config.settings import Config
from mechanic.errors import ConfigError
from mechanic.files.atomic import write_atomic
from mechanic.files.userfile import read_regular


def _document(path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(read_regular(path).decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=path) from None
    except tomlkit.exceptions.TOMLKitError as exc:
        raise ConfigError(f"invalid TOML: {exc}", file=path) from None


def _protected_array(document: tomlkit.TOMLDocument, *, create: bool):
    table = document.get("mechanic")
    if table is None:
        if not create:
            return None
        table = tomlkit.table()
        document["mechanic"] = table
    if "protected" not in table:
        if not create:
            return None
        table["protected"] = tomlkit.array()
    return table["protected"]


def list_protected(path: Path) -> list[str]:
    array = _protected_array(_document(path), create=False)
    return [str(item) for item in array] if array is not None else []


def add_protected(path: Path, pattern: str) -> bool:
    """Add `pattern` to [mechanic] protected; False when it was already there."""
    problem = check_globs([pattern])
    if problem:
        raise ConfigError(problem, key="mechanic.protected", file=path)
    document = _document(path)
    array = _protected_array(document, create=True)
    if pattern in [str(item) for item in array]:
        return False
    array.append(pattern)
    _save(path, document)
    return True


def remove_protected(path: Path, pattern: str) -> bool:
    """Remove `pattern` from [mechanic] protected; False when it was not there."""
    document = _document(path)
    array = _protected_array(document, create=False)
    if array is None:
        return False
    items = [str(item) for item in array]
    if pattern not in items:
        return False
    del array[items.index(pattern)]
    _save(path, document)
    return True


def _save(path: Path, document: tomlkit.TOMLDocument) -> Config:
    text = tomlkit.dumps(document)
    config = parse_config(text, path)  # refuse to write what would not load
    write_atomic(path, text.encode("utf-8"), mode=os.stat(path).st_mode & 0o7777)
    return config
