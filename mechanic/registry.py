"""One way to plug a kind of thing in by name: probe types, checkers, model backends.

A `Registry` maps names to entries (a class, or a factory that imports its module
only when called, so a tree without JavaScript never loads node's checker and
backend "none" never loads an HTTP client). Entries are added at import time with
the `register(name)` decorator and never change afterwards; `get(name)` raises
UnknownName listing the names it knows, so a typo is answered with the choices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownName(LookupError):
    """A name no entry of a registry has; the message lists the known ones."""

    def __init__(self, kind: str, name: str, known: tuple[str, ...]) -> None:
        self.kind = kind
        self.name = name
        self.known = known
        super().__init__(f"unknown {kind} {name!r} (known: {', '.join(known)})")

    def __str__(self) -> str:
        return str(self.args[0])


class Registry(Generic[T]):
    """Named entries of one kind (`kind` is how messages call them: "probe type")."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """A decorator adding its target under `name`; a name taken twice is a bug."""

        def add(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            return entry

        return add

    def unregister(self, name: str) -> None:
        """Remove `name` (for tests that plug in a type of their own)."""
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownName(self.kind, name, self.names()) from None

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._entries))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
