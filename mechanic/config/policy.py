"""What mechanic does unless told otherwise, and what no setting can change.

Policy, not schema: these are the defaults config.toml's keys start from
(mechanic/config/keys.py) and the limits that hold whatever the config says.
"""

from __future__ import annotations

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
# A root holding more watched files than this is most likely a mistake (a home
# folder, a disk), unless the [[watch]] says allow_large_root = true.
LARGE_ROOT_FILES = 20_000
DEFAULT_INCLUDE = ("**/*.py", "**/*.js", "**/*.mjs", "**/*.cjs")
DEFAULT_EXCLUDE = (
    "**/node_modules/**",
    "**/.git/**",
    "**/__pycache__/**",
    "**/.venv/**",
    "**/venv/**",
)
# Files that look like secrets are never read into a prompt nor written,
# whatever the config says: no setting (not even a "!" pattern) can make
# mechanic send a private key. Matched case-insensitively.
ALWAYS_PROTECTED = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "id_*",
    "*credential*",
    "*secret*",
    ".netrc",
    ".pgpass",
    ".npmrc",
    ".pypirc",
    ".htpasswd",
)
# Seed 001's forbidden paths: protected unless the config says otherwise
# (`default_protected = []`), so a user can see and change them.
DEFAULT_PROTECTED = ("migrations/", "secrets/", "auth/", "payment/", ".env")

# Exceptions that point at a defect in the code itself. Others (a deliberate
# `throw new Error(...)`, a refused connection, a missing file) are how a program
# reports its world, and a model "fixing" them would delete the report.
DEFAULT_RUNTIME_ERRORS = (
    "NameError",
    "UnboundLocalError",
    "AttributeError",
    "TypeError",
    "ImportError",
    "SyntaxError",
    "IndentationError",
    "TabError",
    "ReferenceError",
)
