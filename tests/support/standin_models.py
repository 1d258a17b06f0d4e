"""The Ollama stand-in's models and version: what /api/tags, /api/show and /api/ps describe,
and the token estimate the stand-in reports (see tests/support/ollama_standin.py)."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

OLLAMA_VERSION = "0.12.6"
CHARS_PER_TOKEN = 4

Endpoint = Literal["generate", "chat"]
DoneReason = Literal["stop", "length"]
Hostile = Literal["trickle", "stall_after_headers", "slow_headers", "drop_mid_body", "invalid_json"]
HOSTILE_MODES: tuple[Hostile, ...] = (
    "trickle",
    "stall_after_headers",
    "slow_headers",
    "drop_mid_body",
    "invalid_json",
)

_QWEN_TEMPLATE = (
    "{{- if .Messages }}\n{{- if or .System .Tools }}<|im_start|>system\n{{- if .System }}\n"
    "{{ .System }}\n{{- end }}<|im_end|>\n{{ end }}\n{{- range $i, $_ := .Messages }}"
    "<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
    "{{ else }}{{ .Prompt }}{{ end }}"
)
_APACHE_LICENSE = "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/"


def estimate_tokens(text: str) -> int:
    """The stand-in's token count for ``text``: about one token per 4 characters."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _go_time(moment: datetime) -> str:
    """Format ``moment`` the way Go marshals a ``time.Time`` (RFC 3339, nanoseconds)."""
    text = moment.isoformat(timespec="microseconds")
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def _now_go(ns: int | None = None) -> str:
    """Current UTC time as Go's ``time.Now().UTC()`` marshals it (RFC3339Nano)."""
    ns = time.time_ns() if ns is None else ns
    seconds, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    digits = f"{frac:09d}".rstrip("0")
    return f"{base}.{digits}Z" if digits else f"{base}Z"


@dataclass(frozen=True)
class ModelSpec:
    """One model the stand-in has "pulled".

    ``capabilities`` decides behaviour: with ``"thinking"`` the model thinks unless asked not to;
    without it, ``think: true`` is refused with 400.
    ``default_num_ctx`` is the context the server uses when a request sets no
    ``options.num_ctx``; prompts longer than the context are silently cut.
    """

    name: str = "qwen2.5-coder:7b"
    family: str = "qwen2"
    context_length: int = 32768
    capabilities: tuple[str, ...] = ("completion", "tools", "insert")
    parameter_size: str = "7.6B"
    parameter_count: int = 7_615_616_512
    quantization_level: str = "Q4_K_M"
    size: int = 4_683_087_332
    default_num_ctx: int = 4096
    modified_at: datetime = datetime(2025, 9, 30, 14, 21, 7, 512_345, tzinfo=UTC)
    template: str = _QWEN_TEMPLATE
    license: str = _APACHE_LICENSE
    parameters: str = ""

    @property
    def thinking(self) -> bool:
        """Whether the model has the ``thinking`` capability."""
        return "thinking" in self.capabilities

    @property
    def digest(self) -> str:
        """A stable, fake manifest digest (64 hex digits), as ``/api/tags`` shows it."""
        return hashlib.sha256(self.name.encode()).hexdigest()

    @property
    def details(self) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }

    @property
    def model_info(self) -> dict[str, Any]:
        """``model_info`` as ``/api/show`` gives it (GGUF metadata, keys sorted)."""
        fam = self.family
        info: dict[str, Any] = {
            "general.architecture": fam,
            "general.basename": self.name.split(":", 1)[0],
            "general.file_type": 15,
            "general.parameter_count": self.parameter_count,
            "general.quantization_version": 2,
            "general.type": "model",
            f"{fam}.attention.head_count": 28,
            f"{fam}.attention.head_count_kv": 4,
            f"{fam}.block_count": 28,
            f"{fam}.context_length": self.context_length,
            f"{fam}.embedding_length": 3584,
            f"{fam}.rope.freq_base": 1_000_000,
            "tokenizer.ggml.model": "gpt2",
            "tokenizer.ggml.pre": fam,
        }
        return dict(sorted(info.items()))


QWEN25_CODER_7B = ModelSpec()
"""Non-thinking coder model, 32,768-token native context (the default model)."""

QWEN3_CODER_30B = ModelSpec(
    name="qwen3-coder:30b",
    family="qwen3moe",
    context_length=262_144,
    capabilities=("completion", "tools"),
    parameter_size="30.5B",
    parameter_count=30_532_122_624,
    size=18_556_701_140,
)
"""Non-thinking coder model, 262,144-token native context."""

QWEN3_8B = ModelSpec(
    name="qwen3:8b",
    family="qwen3",
    context_length=40_960,
    capabilities=("completion", "tools", "thinking"),
    parameter_size="8.2B",
    parameter_count=8_190_735_360,
    size=5_225_388_164,
)
"""A thinking-capable model: without ``think: false`` its answer goes to ``thinking``."""

DEFAULT_MODEL = QWEN25_CODER_7B
