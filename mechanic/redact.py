"""Secret-looking strings in code, hidden from the model and put back after.

A source file may hold an API key, a bearer token or a password inside a
connection string. Before a prompt leaves the process each such value is
replaced by a placeholder (`__SECRET_1__`); when the answer comes back the
placeholders become the values again, so the fixed file still holds them and
no model ever saw them. Over-matching costs nothing (the model sees a
placeholder where a harmless string was); under-matching leaks, so the
patterns lean wide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The whole match is the secret: tokens with a recognisable shape.
_SHAPED = [
    re.compile(p, flags)
    for p, flags in (
        (r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----", re.S),
        (r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b", 0),  # AWS key ids
        (r"\bgh[pousr]_[A-Za-z0-9]{30,}", 0),  # GitHub tokens
        (r"\bgithub_pat_[A-Za-z0-9_]{30,}", 0),
        (r"\bglpat-[A-Za-z0-9_\-]{20,}", 0),  # GitLab
        (r"\bsk-(?:proj-|ant-|live-)?[A-Za-z0-9_\-]{20,}", 0),  # OpenAI, Anthropic...
        (r"\bxox[abposr]-[A-Za-z0-9\-]{10,}", 0),  # Slack
        (r"\bAIza[0-9A-Za-z_\-]{35}", 0),  # Google API keys
        (r"\b[rsp]k_(?:live|test)_[0-9A-Za-z]{16,}", 0),  # Stripe
        (r"\bnpm_[A-Za-z0-9]{36}\b", 0),
        (r"\bhf_[A-Za-z0-9]{30,}\b", 0),  # Hugging Face
        (r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", 0),  # JWTs
    )
]
# Group 1 is the secret: values known by what surrounds them.
_NAMED = [
    re.compile(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{12,}=*)"),
    re.compile(r"(?i)\bbasic\s+([A-Za-z0-9+/]{12,}={0,2})"),
    # The password in scheme://user:password@host (a DSN or a URL).
    re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@'\"`]*:([^\s@/'\"`]+)@"),
    re.compile(r"(?i)aws[\w\-]{0,20}[\"']?\s*[:=]\s*[\"']([A-Za-z0-9/+]{40})[\"']"),
    # password = "...", "api_key": "...", SECRET_TOKEN='...' and the like.
    re.compile(
        r"(?i)(?:api[_\-]?key|apikey|secret|token|passw(?:or)?d|passwd|pwd|credential"
        r"|auth[_\-]?key|access[_\-]?key|private[_\-]?key)[\w\-]*[\"']?\s*(?::|=|:=)\s*"
        r"[rbuf]?[\"']([^\"'\s]{6,})[\"']"
    ),
]
PLACEHOLDER = "__SECRET_{}__"


def find_secrets(text: str) -> list[tuple[int, int]]:
    """Spans of secret-looking values in `text`, sorted, overlaps merged."""
    spans = [m.span() for pattern in _SHAPED for m in pattern.finditer(text)]
    spans += [m.span(1) for pattern in _NAMED for m in pattern.finditer(text)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def secret_values(text: str) -> set[str]:
    return {text[start:end] for start, end in find_secrets(text)}


@dataclass
class Redaction:
    """One request's secrets and their placeholders."""

    secrets: dict[str, str] = field(default_factory=dict)  # placeholder -> secret
    _prefix: str = "__SECRET_"

    def hide(self, text: str) -> str:
        """`text` with every secret replaced by its placeholder."""
        by_secret = {secret: holder for holder, secret in self.secrets.items()}
        out, last = [], 0
        for start, end in find_secrets(text):
            secret = text[start:end]
            holder = by_secret.get(secret)
            if holder is None:
                holder = self._new_placeholder(text)
                self.secrets[holder] = secret
                by_secret[secret] = holder
            out += [text[last:start], holder]
            last = end
        out.append(text[last:])
        return "".join(out)

    def _new_placeholder(self, text: str) -> str:
        while True:  # never a string the text itself holds
            holder = f"{self._prefix}{len(self.secrets) + 1}__"
            if holder not in text:
                return holder
            self._prefix += "X_"

    def reveal(self, text: str) -> str:
        """`text` with the placeholders turned back into the secrets."""
        for holder in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(holder, self.secrets[holder])
        return text
