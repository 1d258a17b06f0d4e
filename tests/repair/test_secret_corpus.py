"""The secret corpus: every form a secret takes in real code, and none of them
reaches the model, the log, the JSON output or the store.

Each form is a line of code as people write it and the secret it holds. The
forms come from what leaked before (issue 11: annotated assignments, PGP
blocks, `db_pass`, values with spaces, triple quotes, `os.environ.get`
defaults, `Authorization: Token`, `login(user, password)`, `{"pass": ...}`,
`mysql -p`, any name with secret/token/key/passwd/pwd/credential/auth) and
from what gitleaks and detect-secrets look for."""

from __future__ import annotations

import base64
import json
import random
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechanic.redact import Redaction, scrub
from tests.support.ollama_standin import Reply

# (form, code, secret): Python unless the name says js.
FORMS = [
    ("annotated", 'DB_PASSWORD: str = "Tr0ub4dor&3horse"', "Tr0ub4dor&3horse"),
    ("db_pass", 'db_pass = "pg-Secret-991"', "pg-Secret-991"),
    ("spaces", 'password = "correct horse battery staple"', "correct horse battery staple"),
    ("triple", 'api_key = """k3y-with-newline-free-body-77"""', "k3y-with-newline-free-body-77"),
    ("triple_single", "secret = '''s3cr3t triple single'''", "s3cr3t triple single"),
    (
        "environ_get",
        'pw = os.environ.get("PG_PASSWORD", "DefaultPgPassw0rd!")',
        "DefaultPgPassw0rd!",
    ),
    ("getenv", 'tok = os.getenv("API_TOKEN", "fallback-token-123")', "fallback-token-123"),
    (
        "auth_token_header",
        'h = {"Authorization": "Token 9f8e7d6c5b4a3f2e1d0c"}',
        "9f8e7d6c5b4a3f2e1d0c",
    ),
    ("bearer_header", 'h = {"Authorization": "Bearer Zm9vYmFyYmF6cXV4"}', "Zm9vYmFyYmF6cXV4"),
    ("x_api_key", 'h = {"X-API-Key": "ak_live_3kd9s0d"}', "ak_live_3kd9s0d"),
    ("login_call", 'client.login("admin", "AdminPa55word2024")', "AdminPa55word2024"),
    ("auth_tuple", 'requests.get(url, auth=("admin", "AdminPa55word2025"))', "AdminPa55word2025"),
    ("basic_auth", 'HTTPBasicAuth(user, "B4sicAuthPass")', "B4sicAuthPass"),
    ("dict_pass", 'cfg = {"pass": "dictPassValue9"}', "dictPassValue9"),
    ("mysql_p", 'os.system("mysql -uroot -pMyRootPw42 app")', "MyRootPw42"),
    ("cli_password", 'cmd = "pg_dump --password=Dump3rPw db"', "Dump3rPw"),
    ("sshpass", 'run("sshpass -p SshPa55w0rd ssh host")', "SshPa55w0rd"),
    ("curl_user", 'run("curl -u deploy:CurlPa55 https://x")', "CurlPa55"),
    ("client_secret", 'CLIENT_SECRET = "cs-1234-abcd-5678"', "cs-1234-abcd-5678"),
    ("refresh_token", 'refresh_token = "rt.998877.zzyyxx"', "rt.998877.zzyyxx"),
    ("credential", 'my_credential = "cred-value-0001"', "cred-value-0001"),
    ("auth_key", 'authKey = "auth-key-value-42"', "auth-key-value-42"),
    ("passwd", 'PASSWD = "passwd-value-43"', "passwd-value-43"),
    ("pwd", 'admin_pwd = "pwd-value-44"', "pwd-value-44"),
    ("private_key_name", 'PRIVATE_KEY = "pk-inline-value-45"', "pk-inline-value-45"),
    ("kwarg", 'connect(host="db", password="KwArgPa55")', "KwArgPa55"),
    ("dsn_url", 'URL = "postgresql://app:UrlPa55word@db/prod"', "UrlPa55word"),
    ("dsn_kv", 'DSN = "host=db user=app password=KvPa55word dbname=x"', "KvPa55word"),
    (
        "github",
        'T = "ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ"',
        "ghp_1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTuVwXyZ",
    ),
    ("aws_id", 'K = "AKIAIOSFODNN7EXAMPLE"', "AKIAIOSFODNN7EXAMPLE"),
    (
        "openai",
        'K = "sk-proj-4fQ9xT2mZ8kL1vB7nR3sW6yH0jD5gC"',
        "sk-proj-4fQ9xT2mZ8kL1vB7nR3sW6yH0jD5gC",
    ),
    (
        "slack_webhook",
        'W = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX"',
        "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX",
    ),
    (
        "jwt",
        'J = "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4f"',
        "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4f",
    ),
    ("high_entropy", 'SIGNING = "q8Zr2Lx0Vw7Nc4Jt6Bp1Hs9Ke3"', "q8Zr2Lx0Vw7Nc4Jt6Bp1Hs9Ke3"),
    (
        "high_entropy_hex",
        'digest_seed = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b"',
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
    ),
    ("js_const", 'const apiToken = "js-token-value-46";', "js-token-value-46"),
    ("js_object", 'const cfg = { password: "jsObjPa55" };', "jsObjPa55"),
    ("js_template", "const secret = `tmpl-secret-47`;", "tmpl-secret-47"),
    ("js_env_default", 'const pw = process.env.DB_PASSWORD || "JsEnvDefault48";', "JsEnvDefault48"),
    (
        "js_bearer_unquoted",
        "const h = { Authorization: Bearer abcdEFGH1234ijklMNOP };",
        "abcdEFGH1234ijklMNOP",
    ),
    (
        "js_header",
        'fetch(u, { headers: { "Authorization": "Token js9f8e7d6c5b4a" } });',
        "js9f8e7d6c5b4a",
    ),
]
PGP = (
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n"
    "lQOYBGR0cGVzdAEIAK8b6Qb7m2rVbW1Nq3wTeStKeyBody\n"
    "-----END PGP PRIVATE KEY BLOCK-----"
)
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7PemBody\n-----END RSA PRIVATE KEY-----"


@pytest.mark.parametrize(("form", "code", "secret"), FORMS, ids=[f[0] for f in FORMS])
def test_each_form_is_hidden_from_the_model_and_comes_back(form, code, secret):
    redaction = Redaction()
    hidden = redaction.hide(code)
    assert secret not in hidden
    assert redaction.reveal(hidden) == code


@pytest.mark.parametrize(("form", "code", "secret"), FORMS, ids=[f[0] for f in FORMS])
def test_each_form_is_masked_where_it_is_shown(form, code, secret):
    assert secret not in scrub(code)


@pytest.mark.parametrize("block", [PGP, PEM], ids=["pgp", "pem"])
def test_private_key_blocks_are_hidden_whole(block):
    code = f'KEY = """{block}"""\n'
    redaction = Redaction()
    hidden = redaction.hide(code)
    assert "PgpBody" not in hidden and "PemBody" not in hidden
    assert "StKeyBody" not in hidden
    assert redaction.reveal(hidden) == code


def test_a_secret_quoted_again_in_an_error_line_is_hidden_there_too():
    prompt = (
        "ERROR: line 1: Unexpected identifier 'abcdEFGH1234ijklMNOP'\nCODE:\n"
        "const h = { Authorization: Bearer abcdEFGH1234ijklMNOP };\n"
    )
    hidden = Redaction().hide(prompt)
    assert "abcdEFGH1234ijklMNOP" not in hidden


def test_ordinary_code_keeps_its_words():
    code = (
        "def login(user, password):\n"
        '    key = "name"\n'
        "    password = get_password(user)\n"
        '    url = "https://example.com/api"\n'
        '    sort(items, key=lambda item: item["id"])\n'
        "    return check(password)\n"
    )
    assert Redaction().hide(code) == code


def _token(seed: int, kind: str, size: int) -> str:
    # Tokens as generators make them (secrets.token_urlsafe / token_hex), from a
    # seed so hypothesis can shrink and replay without losing their randomness.
    data = random.Random(seed).randbytes(size)
    return data.hex() if kind == "hex" else base64.urlsafe_b64encode(data).decode().rstrip("=")


_TOKEN = st.builds(
    _token,
    st.integers(0, 2**32),
    st.sampled_from(["urlsafe", "hex"]),
    st.integers(18, 30),
)
_NAME = st.sampled_from(
    ["api_key", "AUTH_TOKEN", "dbPassword", "client_secret", "session_key", "x", "config_value"]
)
_SHAPE = st.sampled_from(
    ['{name} = "{token}"', "{name}: str = '{token}'", '"{name}": "{token}",', "{name} = `{token}`;"]
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(name=_NAME, shape=_SHAPE, token=_TOKEN)
def test_generated_random_tokens_are_hidden_whatever_they_are_assigned_to(name, shape, token):
    code = shape.format(name=name, token=token)
    redaction = Redaction()
    hidden = redaction.hide(code)
    assert token not in hidden
    assert redaction.reveal(hidden) == code


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_hiding_then_revealing_gives_back_any_text(text):
    redaction = Redaction()
    assert redaction.reveal(redaction.hide(text)) == text


def _corpus_file(language: str) -> tuple[str, list[str]]:
    forms = [f for f in FORMS if f[0].startswith("js_") == (language == "javascript")]
    if language == "python":
        body = "import os\n\n" + "\n".join(code for _, code, _ in forms)
        body += f'\nKEY = """{PGP}"""\n\n\ndef main():\n    return sum([1, 2]\n'
        return body, [s for _, _, s in forms] + ["StKeyBody"]
    # In JS the unquoted bearer token is the syntax error itself: node quotes it.
    body = "\n".join(code for _, code, _ in forms) + "\nmodule.exports = { h };\n"
    return body, [s for _, _, s in forms]


def _fixing_model(request):
    code = request.prompt.split("CODE:\n", 1)[1]
    return Reply(code.replace("return sum([1, 2]\n", "return sum([1, 2])\n"))


@pytest.mark.parametrize("language", ["python", "javascript"])
def test_no_form_reaches_the_model_the_log_the_json_or_the_store(
    workspace, ollama_standin, language
):
    workspace.write_config(
        llm={"backend": "ollama", "host": ollama_standin.url},
        repair={"mode": "whole", "deterministic": False},
    )
    body, secrets = _corpus_file(language)
    name = "settings.py" if language == "python" else "settings.js"
    workspace.file(name, body)
    ollama_standin.respond(_fixing_model)
    once = workspace.run("once", "--json")
    status = workspace.run("status", "--json")
    check = workspace.run("check", "--json")
    log = (workspace.state / "mechanic.log").read_text()
    sent = json.dumps([r.body for r in ollama_standin.requests])
    assert ollama_standin.inference_count >= 1, once.stdout + once.stderr
    if language == "python":
        assert once.attempts()[name]["outcome"] == "applied", once.stdout
    with sqlite3.connect(workspace.state / "mechanic.sqlite3") as db:
        # Every text the store keeps for showing; good versions and remembered
        # fixes are the user's own code, kept to repair it (0600, issue 11 #13).
        stored = json.dumps(
            [
                list(row)
                for table in ("findings", "attempts", "needs_person", "runtime_errors", "pending")
                for row in db.execute(f"SELECT * FROM {table}")
            ]
        )
    places = {
        "request": sent,
        "once --json": once.stdout + once.stderr,
        "status --json": status.stdout,
        "check --json": check.stdout,
        "log": log,
        "store": stored,
    }
    leaks = [
        (secret, where) for secret in secrets for where, text in places.items() if secret in text
    ]
    assert leaks == []
