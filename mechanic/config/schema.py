"""The key DSL config.toml is checked with: a `Key` (types, default, check) and
the checks keys share.

A check returns a problem ("must be ...") or None; the loader (mechanic/config/load.py)
adds the key's name, the file and the line. This module knows no table of
mechanic's own (those are mechanic/config/keys.py and each probe type's `options`),
so probes can declare their keys without importing the loader.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pathspec

Check = Callable[[Any], str | None]  # returns a problem, or None when fine


@dataclass(frozen=True)
class Key:
    types: tuple[type, ...]
    default: Any
    check: Check | None = None
    required: bool = False

    def type_name(self) -> str:
        names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
        names[dict] = "a table"
        if self.types == (int, float):
            return "a number"
        if self.types == (list,):
            return "a list of strings"
        if self.types == (list, str):
            return "a list of strings or a string"
        return " or ".join(names.get(t, t.__name__) for t in self.types)


# Numbers beyond any sane setting: also the bound on keys without a range of their own.
NUMBER_LIMIT = 1e15


def _fmt(bound: float) -> str:
    return f"{bound:g}" if isinstance(bound, float) else str(bound)


def shown(value: Any) -> str:
    """A value as a message quotes it, kept short. A huge integer is shown by its
    size: str() of one past 4,300 digits raises."""
    if isinstance(value, int) and abs(value) > NUMBER_LIMIT:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= 120 else text[:100] + "..."


def in_range(low: float, high: float, *, above: bool = False) -> Check:
    """A finite number from `low` (excluded when `above`) to `high`: nan, inf and
    1e308 pass a bare `value > 0` test and then crash the arithmetic that uses them."""
    span = f"greater than {_fmt(low)} and at most" if above else f"from {_fmt(low)} to"
    span += f" {_fmt(high)}"

    def check(value: Any) -> str | None:
        # Comparisons, not math.isfinite(): that overflows on a huge TOML integer.
        # nan fails every comparison, so it is refused with the rest.
        fine = (value > low if above else value >= low) and value <= high
        if not fine:
            kind = "a finite number " if isinstance(value, float) else ""
            return f"must be {kind}{span}, got {shown(value)}"
        return None

    return check


def finite(value: Any) -> str | None:
    """The bound every number gets, whatever its own check says."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not -NUMBER_LIMIT <= value <= NUMBER_LIMIT:
        return (
            f"must be a finite number from {-NUMBER_LIMIT:g} to {NUMBER_LIMIT:g},"
            f" got {shown(value)}"
        )
    return None


def one_of(choices: tuple[str, ...]) -> Check:
    def check(value: Any) -> str | None:
        if value not in choices:
            return f"must be one of {', '.join(repr(c) for c in choices)}, got {value!r}"
        return None

    return check


def not_empty(value: Any) -> str | None:
    return "must not be empty" if not str(value).strip() else None


def check_globs(value: Any) -> str | None:
    for item in value:
        if not isinstance(item, str):
            return f"must be a list of strings, found {type(item).__name__} {item!r}"
        if not item.strip():
            return "must not contain empty patterns"
        try:
            pathspec.PathSpec.from_lines("gitignore", [item])
        except Exception as exc:  # pathspec raises several types for bad patterns
            return f"has an invalid glob {item!r}: {exc}"
    return None


def url(value: Any) -> str | None:
    if not re.match(r"^(https?://)?[\w.\-\[\]:]+(:\d+)?(/.*)?$", value):
        return f"is not a URL like http://127.0.0.1:11434, got {value!r}"
    return None


def http_url(value: Any) -> str | None:
    if value and not re.match(r"^https?://[^\s/]+", value):
        return f"must be an http:// or https:// URL, got {value!r}"
    return None


NUMBER = (int, float)


def check_command(value: Any) -> str | None:
    """A command is an argv list, or a string split like a shell would (no shell runs)."""
    if isinstance(value, str):
        try:
            value = shlex.split(value)
        except ValueError as exc:
            return f"cannot be split into arguments: {exc}"
    if not value:
        return "must not be empty (leave the key out instead)"
    for item in value:
        if not isinstance(item, str) or not item:
            return f"must be a list of non-empty strings, found {item!r}"
    return None


def command_args(value: list[str] | str) -> tuple[str, ...]:
    return tuple(shlex.split(value) if isinstance(value, str) else value)


def check_errors(value: Any) -> str | None:
    for item in value:
        if not isinstance(item, str) or not re.fullmatch(r"\*|[A-Za-z_][\w.]*", item):
            return f'must list exception names like "TypeError" (or "*"), found {item!r}'
    return None
