"""Every backend is wrapped in this: secrets never leave the process.

It sits at the one door every prompt goes through (`Backend.complete`), so it
holds for every repair strategy, now and later, without each one having to
remember it. See mechanic/redact.py for what counts as a secret.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mechanic.redact import Redaction
from mechanic.repair.backends.base import Backend, Completion


class RedactingBackend(Backend):
    def __init__(self, inner: Backend) -> None:  # no super(): name and model are the inner's
        self.inner = inner

    @property
    def name(self) -> str:  # type: ignore[override]  # read-only: the inner backend's name
        return self.inner.name

    @property
    def model(self) -> str:  # type: ignore[override]  # read-only: the inner backend's model
        return self.inner.model

    def prepare(self) -> None:
        self.inner.prepare()

    def context_tokens(self) -> int:
        return self.inner.context_tokens()

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def complete(self, *, system: str, prompt: str, max_tokens: int) -> Completion:
        redaction = Redaction()
        completion = self.inner.complete(
            system=redaction.hide(system), prompt=redaction.hide(prompt), max_tokens=max_tokens
        )
        return dataclasses.replace(completion, text=redaction.reveal(completion.text))

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # Anything a backend gains later (and this wrapper does not know) is the inner's.
        return getattr(self.inner, name)
