"""The one small interface every model backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class Completion:
    text: str
    done_reason: str | None  # "stop", or "length" when the answer was cut off
    prompt_tokens: int | None
    answer_tokens: int | None
    duration_s: float


class Backend(ABC):
    """A model that turns a prompt into text.

    `prepare()` is called once per cycle before the first request, and raises a
    BackendError subclass when the model cannot be used at all; nothing is sent
    for any file then.
    """

    name: str = ""

    def __init__(self, model: str) -> None:
        self.model = model

    @abstractmethod
    def prepare(self) -> None: ...

    @abstractmethod
    def context_tokens(self) -> int:
        """Tokens the model may see and write in one request."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes (an estimate where the backend cannot count)."""

    @abstractmethod
    def complete(self, *, system: str, prompt: str, max_tokens: int) -> Completion: ...

    def close(self) -> None:
        """Release the model; the default holds nothing."""
