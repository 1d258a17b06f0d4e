"""Model backends, one module each, behind the `Backend` interface."""

from __future__ import annotations

from mechanic.config.settings import LLMSettings
from mechanic.repair.backends.base import Backend, Completion

__all__ = ["Backend", "Completion", "create_backend"]


def create_backend(settings: LLMSettings) -> Backend | None:
    """The configured backend, or None for backend "none" (report, never repair).
    Always wrapped so that secret-looking values never reach the model."""
    from mechanic.repair.backends.redacting import RedactingBackend

    if settings.backend == "ollama":
        from mechanic.repair.backends.ollama import OllamaBackend

        return RedactingBackend(OllamaBackend(settings))
    if settings.backend == "embedded":
        from mechanic.repair.backends.embedded import EmbeddedBackend

        return RedactingBackend(EmbeddedBackend(settings))
    return None
