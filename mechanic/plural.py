"""Counts with their noun, singular or plural: "1 app online", "2 apps online".

One place, so no message says "1 app(s)" or "(1 models)" (issue 13)."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` and `noun`, with `many` (default: noun + "s") for any count but 1."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"
