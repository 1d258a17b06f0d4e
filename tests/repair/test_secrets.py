"""Secrets never reach a model: secret-looking files are never sent, and
secret-looking values inside code are replaced before a prompt leaves the
process and put back when the answer is spliced in."""

from __future__ import annotations

import json
import re

import pytest

from mechanic.config.policy import ALWAYS_PROTECTED, DEFAULT_PROTECTED
from mechanic.detect.discovery import Guard
from mechanic.redact import Redaction, secret_values
from tests.support.ollama_standin import Reply

SECRETS = {
    "openai": "sk-proj-4fQ9xT2mZ8kL1vB7nR3sW6yH0jD5gC",
    "github": "ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ",
    "aws_id": "AKIAIOSFODNN7EXAMPLE",
    "aws_secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "dsn_password": "s3cr3t-Pa55",
    "bearer": "eyZmFrZS1iZWFyZXItdG9rZW4tZm9yLXRlc3Rz",
    "password": "hunter2hunter2",
    "slack": "xoxb-123456789012-abcdefABCDEF",
    "stripe": "sk_live_51HkT9sLmQwErTyUiOp",
}

BROKEN = f"""\
import requests

OPENAI_KEY = "{SECRETS["openai"]}"
GITHUB_TOKEN = '{SECRETS["github"]}'
AWS_ACCESS_KEY_ID = "{SECRETS["aws_id"]}"
aws_secret_access_key = "{SECRETS["aws_secret"]}"
DATABASE_URL = "postgresql://app:{SECRETS["dsn_password"]}@db.internal:5432/prod"
HEADERS = {{"Authorization": "Bearer {SECRETS["bearer"]}"}}
settings = {{"password": "{SECRETS["password"]}", "slack": "{SECRETS["slack"]}"}}
STRIPE = "{SECRETS["stripe"]}"


def total(items):
    return sum(items
"""
FIXED = BROKEN.replace("return sum(items\n", "return sum(items)\n")


def fixing_model(request):
    """A model that fixes exactly the code it was shown, placeholders and all."""
    code = request.prompt.split("CODE:\n", 1)[1]
    return Reply(code.replace("return sum(items\n", "return sum(items)\n"))


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_each_kind_of_secret_is_found(name):
    assert any(SECRETS[name] in value for value in secret_values(BROKEN))
    assert SECRETS[name] not in Redaction().hide(BROKEN)


def test_ordinary_code_is_left_readable():
    code = 'def login(user, password):\n    url = "https://example.com/api"\n    return 1\n'
    assert secret_values(code) == set()


def test_hiding_and_revealing_round_trips_and_avoids_the_texts_own_words():
    text = "TOKEN = 'ghp_" + "a" * 36 + "'  # __SECRET_1__ is a word in this file\n"
    redaction = Redaction()
    hidden = redaction.hide(text)
    assert "ghp_" not in hidden
    assert redaction.reveal(hidden) == text


def test_the_model_never_sees_a_secret_and_the_fixed_file_keeps_them(workspace, ollama_standin):
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    path = workspace.file("client.py", BROKEN)
    ollama_standin.respond(fixing_model)
    attempt = workspace.run("once", "--json").attempts()["client.py"]
    assert attempt["outcome"] == "applied", attempt
    assert path.read_text() == FIXED
    sent = json.dumps([r.body for r in ollama_standin.requests])
    assert ollama_standin.inference_count == 1
    for secret in SECRETS.values():
        assert secret not in sent
    assert "__SECRET_" in sent


def test_an_answer_that_alters_a_hidden_secret_is_rejected(workspace, ollama_standin):
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    path = workspace.file("client.py", BROKEN)

    def careless(request):
        fixed = fixing_model(request).text
        return Reply(re.sub(r"__SECRET_1__", "REPLACE_ME", fixed))

    ollama_standin.respond(careless)
    attempt = workspace.run("once", "--json").attempts()["client.py"]
    assert attempt["outcome"] == "rejected"
    assert "secret-like value" in attempt["reason"]
    assert not any(secret in attempt["reason"] for secret in SECRETS.values())
    assert path.read_text() == BROKEN


SECRET_FILES = [
    ".env.py",
    "credentials.py",
    "aws_credentials.json",
    "client_secret.json",
    "id_rsa.json",
    "config/.env.production.js",
    "Settings.Secret.js",
]
FORBIDDEN = ["migrations/0001_init.py", "secrets/db.py", "auth/login.py", "payment/charge.js"]


def test_secret_files_and_seed_001_paths_are_never_sent(workspace, ollama_standin):
    workspace.write_config(
        llm={"backend": "ollama", "host": ollama_standin.url},
        watch={"include": ["**/*.py", "**/*.js", "**/*.json"]},
        mechanic={"max_fixes_per_run": 50},
    )
    broken = {}
    for rel in SECRET_FILES + FORBIDDEN:
        content = "const a = ;\n" if rel.endswith(".js") else "x = (\n"
        if rel.endswith(".json"):
            content = '{"a": }\n'
        broken[rel] = (workspace.file(rel, content), content)
    result = workspace.run("once", "--json")
    assert ollama_standin.inference_count == 0
    held = {h["file"]: h["reason"] for h in result.json["held"]}
    for rel, (path, content) in broken.items():
        assert held[str(path)].startswith("protected"), rel
        assert path.read_text() == content


def test_secret_names_are_file_names_not_folders(tmp_path):
    guard = Guard([], [tmp_path])
    assert not guard.is_protected(tmp_path / "secretary" / "app.py")
    assert guard.is_protected(tmp_path / "deep" / "er" / "API_Credentials.json")


def test_a_user_can_lift_a_default_but_never_a_secret(tmp_path):
    (tmp_path / "auth").mkdir()
    guard = Guard([*DEFAULT_PROTECTED, "!auth/", "!.env.local"], [tmp_path])
    assert not guard.is_protected(tmp_path / "auth" / "login.py")
    assert guard.is_protected(tmp_path / ".env.local")
    assert guard.is_protected(tmp_path / "payment" / "charge.py")


def test_the_secret_patterns_are_documented():
    # The configuration reference is where the protected-file lists live (the README
    # links to it).
    reference = (
        __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    ).read_text()
    for pattern in (*ALWAYS_PROTECTED, *DEFAULT_PROTECTED):
        assert f"`{pattern}`" in reference, pattern
