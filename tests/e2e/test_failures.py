"""What a user sees when something around mechanic is broken: a clear message,
and their files exactly as they were."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.ollama_standin import Reply

BROKEN_PY = "def total(items):\n    return sum(items\n"
FIXED_PY = "def total(items):\n    return sum(items)\n"


class NotOllama(BaseHTTPRequestHandler):
    """A web server that is not Ollama: a login page for every request."""

    def _page(self) -> None:
        body = b"<html><body>Please log in</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _page

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def not_ollama():
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotOllama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_host_that_is_not_ollama_is_named_and_nothing_is_touched(workspace, not_ollama):
    workspace.write_config(llm={"backend": "ollama", "host": not_ollama})
    path = workspace.file("calc.py", BROKEN_PY)
    result = workspace.run("once", "--json")
    assert result.returncode == 1
    assert "answered with invalid JSON" in result.json["backend_error"]
    assert path.read_text() == BROKEN_PY


LATIN1 = "# -*- coding: latin-1 -*-\nname = 'caf\u00e9'\nx = (\n"


@pytest.mark.parametrize(
    ("answer", "outcome", "after"),
    [
        (LATIN1.replace("x = (", "x = ()"), "applied", LATIN1.replace("x = (", "x = ()")),
        (
            LATIN1.replace("x = (", "x = ()").replace("caf\u00e9", "caf\u00e9 \u2615"),
            "rejected",
            LATIN1,
        ),
    ],
    ids=["kept-in-latin-1", "not-representable"],
)
def test_a_latin1_file_stays_latin1(workspace, ollama_standin, answer, outcome, after):
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    path = workspace.file("legacy.py", LATIN1.encode("latin-1"))
    ollama_standin.reply(answer)
    attempt = workspace.run("once", "--json").attempts()["legacy.py"]
    assert attempt["outcome"] == outcome
    if outcome == "rejected":
        assert "iso-8859-1 cannot hold" in attempt["reason"]
    assert path.read_bytes() == after.encode("latin-1")


def test_a_corrupt_store_stops_the_cycle_before_any_file_is_touched(workspace):
    workspace.state.mkdir()
    (workspace.state / "mechanic.sqlite3").write_bytes(b"garbage" * 1000)
    path = workspace.file("calc.py", BROKEN_PY)
    result = workspace.run("once")
    assert result.returncode == 2
    assert "mechanic.sqlite3 is not a SQLite database" in result.stderr
    assert "mechanic store check --rebuild" in result.stderr
    assert path.read_text() == BROKEN_PY


def test_without_node_javascript_is_reported_unchecked(workspace):
    workspace.write_config(mechanic={"node": "/nonexistent/node"})
    workspace.file("a.js", "const a = ;\n")
    result = workspace.run("once")
    assert "unchecked javascript files" in result.stdout
    assert "/nonexistent/node" in result.stdout


def test_an_unwritable_backup_folder_means_no_fix_is_applied(workspace, ollama_standin):
    # A backup_dir that is a file at the start is a config error (config/test_config_corpus.py);
    # this one becomes a file while the model answers, past that check.
    workspace.write_config(llm={"backend": "ollama", "host": ollama_standin.url})
    path = workspace.file("calc.py", BROKEN_PY)

    def break_the_backup_folder(_request) -> None:
        if workspace.backups.is_dir():
            workspace.backups.rmdir()
        workspace.backups.write_text("a file where the backup folder should be")

    ollama_standin.reply(Reply(FIXED_PY, on_request=break_the_backup_folder))
    attempt = workspace.run("once", "--json").attempts()["calc.py"]
    assert attempt["outcome"] == "skipped"
    assert "backup could not be written" in attempt["reason"]
    assert path.read_text() == BROKEN_PY
