"""Model backends, one module each, behind the `Backend` interface.

BACKENDS maps `[llm] backend` to a factory; each factory imports its module when
called, so a config that never asks a model never loads an HTTP client or llama.
"""

from __future__ import annotations

from collections.abc import Callable

from mechanic.config.settings import LLMSettings
from mechanic.registry import Registry
from mechanic.repair.backends.base import Backend, Completion

__all__ = ["BACKENDS", "Backend", "Completion", "create_backend"]

BACKENDS: Registry[Callable[[LLMSettings], Backend]] = Registry("backend")


@BACKENDS.register("ollama")
def _ollama(settings: LLMSettings) -> Backend:
    from mechanic.repair.backends.ollama import OllamaBackend

    return OllamaBackend(settings)


@BACKENDS.register("embedded")
def _embedded(settings: LLMSettings) -> Backend:
    from mechanic.repair.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(settings)


def create_backend(settings: LLMSettings) -> Backend | None:
    """The configured backend, or None for backend "none" (report, never repair).
    Always wrapped so that secret-looking values never reach the model."""
    from mechanic.repair.backends.redacting import RedactingBackend

    if settings.backend == "none":
        return None
    return RedactingBackend(BACKENDS.get(settings.backend)(settings))
