"""Secret-looking strings in code, hidden from the model and put back after.

A source file may hold an API key, a bearer token or a password inside a
connection string. Before a prompt leaves the process each such value is
replaced by a placeholder (`__SECRET_1__`); when the answer comes back the
placeholders become the values again, so the fixed file still holds them and
no model ever saw them. Over-matching costs nothing (the model sees a
placeholder where a harmless string was); under-matching leaks, so the
patterns lean wide. `scrub` is the same knowledge for text that is only shown
or stored (checker messages, diffs, log fields): there a secret becomes `***`.

The shapes follow what gitleaks and detect-secrets look for (vendor token
prefixes, private key blocks, keyword assignments, authorization headers,
credentials on command lines, high-entropy strings). They are regular
expressions here rather than either tool because a placeholder must replace
the exact span of the value, and the round trip must give it back byte for
byte.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

_Rule = tuple["re.Pattern[str]", tuple[str, ...]]


def _rules(*rules: tuple[str, int, tuple[str, ...]]) -> list[_Rule]:
    # Each rule names the substrings (lower case) without which it cannot match,
    # so a long file costs one substring search per rule instead of a regex scan.
    return [(re.compile(pattern, flags), needles) for pattern, flags, needles in rules]


# The whole match is the secret: tokens with a recognisable shape.
_SHAPED = _rules(
    # PEM, OpenSSH and PGP private keys (the block, armour lines included).
    (
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?"
        r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----",
        re.S,
        ("private key",),
    ),
    (
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b",
        0,
        ("akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa"),
    ),
    (r"\bgh[pousr]_[A-Za-z0-9]{30,}", 0, ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    (r"\bgithub_pat_[A-Za-z0-9_]{30,}", 0, ("github_pat_",)),
    (r"\bglpat-[A-Za-z0-9_\-]{20,}", 0, ("glpat-",)),  # GitLab
    (r"\bsk-(?:proj-|ant-|live-)?[A-Za-z0-9_\-]{20,}", 0, ("sk-",)),  # OpenAI, Anthropic...
    (r"\bxox[abposr]-[A-Za-z0-9\-]{10,}", 0, ("xox",)),  # Slack
    (r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,}", 0, ("hooks.slack",)),
    (r"\bAIza[0-9A-Za-z_\-]{35}", 0, ("aiza",)),  # Google API keys
    (r"\b[rsp]k_(?:live|test)_[0-9A-Za-z]{16,}", 0, ("k_live_", "k_test_")),  # Stripe
    (r"\bnpm_[A-Za-z0-9]{36}\b", 0, ("npm_",)),
    (r"\bhf_[A-Za-z0-9]{30,}\b", 0, ("hf_",)),  # Hugging Face
    (r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}", 0, ("pypi-",)),  # PyPI upload tokens
    (r"\bSG\.[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}", 0, ("sg.",)),  # SendGrid
    (r"\bdop_v1_[a-f0-9]{64}\b", 0, ("dop_v1_",)),  # DigitalOcean
    (r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", 0, ("eyj",)),  # JWT
)

# A name that says its value is secret: password, db_pass, PG_PASSWORD, apiKey,
# auth_token, client_secret, PRIVATE_KEY, credentials... ("key" alone too:
# over-matching only costs the model a placeholder).
_NAME_WORD = re.compile(r"(?i)pass|pwd|secret|token|credential|auth|key")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.$")
_SECRET_NAME = r"[\w\-.]*(?:pass|pwd|secret|token|credential|auth|key)[\w\-.]*"
# A string literal's body, in groups named v…: triple-quoted first, then single-line.
_LITERAL = (
    r"[rbuf]{0,2}(?:\"\"\"(?P<v3>.{6,}?)\"\"\"|'''(?P<v4>.{6,}?)'''"
    r"|\"(?P<v1>(?:[^\"\\\n]|\\.){6,}?)\"|'(?P<v2>(?:[^'\\\n]|\\.){6,}?)'"
    r"|`(?P<v5>[^`\n]{6,}?)`)"
)
# What follows a secret name: password = "...", DB_PASSWORD: str = "...",
# "api_key": "...", apiKey: `...`, TOKEN := '...', 'token' => '...'.
_ASSIGNED_AFTER_NAME = re.compile(
    rf"[\"']?\s*(?::\s*[\w\[\]., |]+?\s*)?(?::=|=>|=|:)\s*{_LITERAL}", re.S
)

# Values known by what surrounds them: every group named v… that matched.
_NAMED = _rules(
    (r"(?i)\bbearer\s+(?P<v>[A-Za-z0-9\-._~+/]{12,}=*)", 0, ("bearer",)),
    (r"(?i)\bbasic\s+(?P<v>[A-Za-z0-9+/]{12,}={0,2})", 0, ("basic",)),
    (  # "Authorization": "Token 9f8e...", Authorization: ApiKey xyz.
        r"(?i)\b(?:authorization|x-api-key|x-auth-token|api-key)[\"']?\s*[:=]\s*[\"']"
        r"(?:[A-Za-z\-]+\s+)?(?P<v>[^\"'\s]{8,})[\"']",
        0,
        ("authorization", "api-key", "auth-token"),
    ),
    (  # The password in scheme://user:password@host (a DSN or a URL).
        r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@'\"`]*:(?P<v>[^\s@/'\"`]+)@",
        0,
        ("://",),
    ),
    (  # key=value DSNs, "host=db password=xyz" (never a keyword argument).
        r"(?i)(?<=[\s'\";])(?:password|pwd)=(?P<v>[^\s'\";&,)]{4,})",
        0,
        ("password=", "pwd="),
    ),
    (r"(?i)aws[\w\-]{0,20}[\"']?\s*[:=]\s*[\"'](?P<v>[A-Za-z0-9/+]{40})[\"']", 0, ("aws",)),
    (  # os.environ.get("PG_PASSWORD", "default"), getenv('API_TOKEN', '...').
        rf"(?i)(?:getenv|environ\.get|env\.get|environ\.setdefault)\(\s*[\"']{_SECRET_NAME}"
        rf"[\"']\s*,\s*{_LITERAL}",
        0,
        ("getenv", "env.get", "environ"),
    ),
    (  # process.env.DB_PASSWORD || "default", ?? "default".
        rf"(?i)process\.env\.{_SECRET_NAME}\s*(?:\|\||\?\?)\s*{_LITERAL}",
        0,
        ("process.env",),
    ),
    (  # login("admin", "AdminPa55word2024"), auth=("admin", "..."), HTTPBasicAuth(u, "...").
        r"(?i)\b(?:login|auth|authenticate|basicauth|httpbasicauth|httpdigestauth"
        r"|set_password|check_password|sign_in|signin)\s*(?:=\s*|\()\s*\(?\s*"
        rf"(?:[\"'][^\"'\n]*[\"']|[\w.]+)\s*,\s*{_LITERAL}",
        0,
        ("login", "auth", "password", "sign"),
    ),
    # Credentials on a command line: mysql -pSecret, --password=..., sshpass -p,
    # curl -u user:pass.
    (r"(?i)\b(?:mysql\w*|mariadb\w*)\b[^\n]*?\s-p(?P<v>[^\s'\"`]{3,})", 0, ("mysql", "mariadb")),
    (
        r"(?i)--(?:password|passwd|token|api-key|secret)[= ](?P<v>[^\s'\"`]{3,})",
        0,
        ("--pass", "--token", "--api-key", "--secret"),
    ),
    (r"(?i)\bsshpass\s+-p\s*(?P<v>[^\s'\"`]{3,})", 0, ("sshpass",)),
    (
        r"(?i)\bcurl\b[^\n]*?\s(?:-u|--user)\s+[\"']?[^\s:'\"]+:(?P<v>[^\s'\"`]{3,})",
        0,
        ("curl",),
    ),
)
# A long random string assigned or passed: the entropy rule for keys no pattern
# knows (after detect-secrets' base64 and hex limits, on quoted values).
_ASSIGNED_LITERAL = re.compile(
    r"(?:[=:(,]|=>|\breturn)\s*[rbuf]{0,2}([\"'`])(?P<v>[A-Za-z0-9+/=_\-.~]{20,})\1"
)
_HEX = re.compile(r"[0-9a-fA-F]+")
# Logs and libpq DSNs write password=xyz unquoted; in code that shape is a
# variable (`password = get_password()`), so only text that is shown masks it.
_UNQUOTED_PAIR = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|token|secret|api_key|apikey)\s*[=:]\s*)"
    r"(?P<quote>['\"]?)[^\s'\"&;,]+",
    re.I,
)
PLACEHOLDER = "__SECRET_{}__"
MASK = "***"


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _random_looking(value: str) -> bool:
    if _HEX.fullmatch(value):
        return len(value) >= 32 and entropy(value) >= 3.0
    bits = entropy(value)
    if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
        return bits >= 3.5
    # Letters only: random when the cases are mixed throughout (CamelCase words
    # have a capital per word, a random token about one letter in two).
    upper = sum(c.isupper() for c in value) / len(value)
    lower = sum(c.islower() for c in value) / len(value)
    return min(upper, lower) >= 0.2 and bits >= 3.5


def _value_spans(match: re.Match[str]) -> list[tuple[int, int]]:
    return [match.span(g) for g, v in match.groupdict().items() if g.startswith("v") and v]


def _assigned_to_secret_names(text: str) -> list[tuple[int, int]]:
    # A keyword first (one fast scan), then the whole name around it, then what
    # follows the name: a pattern with a leading [\w]* would retry at every character.
    spans: list[tuple[int, int]] = []
    done = -1
    for word in _NAME_WORD.finditer(text):
        if word.end() <= done:
            continue  # another keyword inside a name already looked at
        start, end = word.start(), word.end()
        while start > 0 and text[start - 1] in _NAME_CHARS and word.start() - start < 200:
            start -= 1
        while end < len(text) and text[end] in _NAME_CHARS and end - word.end() < 200:
            end += 1
        done = end
        if match := _ASSIGNED_AFTER_NAME.match(text, end):
            spans += _value_spans(match)
    return spans


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def find_secrets(text: str) -> list[tuple[int, int]]:
    """Spans of secret-looking values in `text`, sorted, overlaps merged."""
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for pattern, needles in _SHAPED:
        if any(needle in lowered for needle in needles):
            spans += [m.span() for m in pattern.finditer(text)]
    for pattern, needles in _NAMED:
        if any(needle in lowered for needle in needles):
            for match in pattern.finditer(text):
                spans += _value_spans(match)
    spans += _assigned_to_secret_names(text)
    spans += [
        m.span("v") for m in _ASSIGNED_LITERAL.finditer(text) if _random_looking(m.group("v"))
    ]
    return _merged(spans)


def secret_values(text: str) -> set[str]:
    return {text[start:end] for start, end in find_secrets(text)}


def _spans_of(text: str, values: Iterable[str]) -> list[tuple[int, int]]:
    """Every place in `text` where one of `values` occurs (a secret found in one
    spot and quoted elsewhere: a checker message, an error line, a diff)."""
    spans = []
    for value in values:
        if len(value) < 3:
            continue  # too short to hide everywhere it occurs
        start = text.find(value)
        while start >= 0:
            spans.append((start, start + len(value)))
            start = text.find(value, start + 1)
    return spans


def _all_spans(text: str, known: Iterable[str]) -> list[tuple[int, int]]:
    found = find_secrets(text)
    values = {text[start:end] for start, end in found} | set(known)
    return _merged(found + _spans_of(text, values))


def scrub(text: str, known: Iterable[str] = ()) -> str:
    """`text` for showing or storing: every secret-looking value, and every
    occurrence of the `known` secrets (those of the file a message is about, a
    probe's password), replaced by `***`."""
    if not text:
        return text
    parts, last = [], 0
    for start, end in _all_spans(text, known):
        parts += [text[last:start], MASK]
        last = end
    text = "".join(parts) + text[last:]
    return _UNQUOTED_PAIR.sub(r"\g<head>\g<quote>***", text)


@dataclass
class Redaction:
    """One request's secrets and their placeholders."""

    secrets: dict[str, str] = field(default_factory=dict)  # placeholder -> secret
    _prefix: str = "__SECRET_"

    def hide(self, text: str) -> str:
        """`text` with every secret replaced by its placeholder, also where a
        secret found in the code is quoted again (an error message, say)."""
        by_secret = {secret: holder for holder, secret in self.secrets.items()}
        out, last = [], 0
        for start, end in _all_spans(text, by_secret):
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
