"""Real services for the probe tests: PostgreSQL, pm2, and small loopback servers.

Nothing here imitates a component: the PostgreSQL server is Debian's, started by
initdb/pg_ctl in a temporary folder on a free loopback port; pm2 is the real one
from npm with its own PM2_HOME running a small node app; the HTTP servers are
real sockets on 127.0.0.1. When a service's programs are missing the tests that
need it skip, unless MECHANIC_REQUIRE_SERVICES is set (CI), where they fail.
"""

from __future__ import annotations

import contextlib
import glob
import http.server
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

PG_PASSWORD = "pg-s3cret-Zq9"  # searched for in every output by the secret tests


def unavailable(what: str) -> None:
    """Skip, or fail when CI requires every service to be present."""
    if os.environ.get("MECHANIC_REQUIRE_SERVICES"):
        pytest.fail(f"MECHANIC_REQUIRE_SERVICES is set but {what}")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- PostgreSQL -------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(versions[0]).parent if versions else None


@dataclass
class Postgres:
    port: int
    password: str = PG_PASSWORD

    def dsn(self, password: str | None = None, dbname: str = "postgres") -> str:
        secret = self.password if password is None else password
        return f"postgresql://postgres:{secret}@127.0.0.1:{self.port}/{dbname}"

    def execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(sql)


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    """initdb + pg_ctl start on a free loopback port, password auth (scram)."""
    bindir = _pg_bin()
    if bindir is None:
        unavailable("PostgreSQL (initdb/pg_ctl) is not installed")
    # PostgreSQL refuses to run as root: run it as an unprivileged user then.
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:
        for name in ("postgres", "nobody"):
            with contextlib.suppress(KeyError):
                owner = pwd.getpwnam(name)
                break
        if owner is None or not shutil.which("runuser"):
            unavailable("running as root without a postgres user or runuser")
        prefix = ["runuser", "-u", owner.pw_name, "--"]
    root = Path(tempfile.mkdtemp(prefix="mechanic-pg-"))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, pwfile, logfile = root / "data", root / "pw", root / "log"
    pwfile.write_text(PG_PASSWORD + "\n")
    if owner is not None:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120, cwd=root)

    port = free_port()
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "scram-sha-256",
            f"--pwfile={pwfile}", "--no-sync")  # fmt: skip
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(logfile), "-o", options, "-w",
            "-t", "60", "start")  # fmt: skip
        try:
            yield Postgres(port)
        finally:
            subprocess.run(
                [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
                check=False,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- pm2 ----------------------------------------------------------------------

APP_JS = """\
// A long-running app for pm2: writes a heartbeat file and stays up.
const fs = require('fs');
const beat = () => fs.writeFileSync(process.env.BEAT_FILE, String(Date.now()));
beat();
setInterval(beat, 200);
"""


@dataclass
class Pm2:
    binary: str
    home: Path
    app_dir: Path

    def env(self) -> dict[str, str]:
        return {**os.environ, "PM2_HOME": str(self.home), "PM2_SILENT": "true"}

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.binary, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def start(self, name: str) -> None:
        script = self.app_dir / f"{name}.js"
        script.write_text(APP_JS)
        env = self.env()
        env["BEAT_FILE"] = str(self.app_dir / f"{name}.beat")
        subprocess.run(
            [self.binary, "start", str(script), "--name", name],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        self.wait_status(name, "online")

    def apps(self) -> dict[str, dict[str, Any]]:
        from probes.pm2 import parse_jlist

        return {a["name"]: a for a in parse_jlist(self.run("jlist").stdout)}

    def status(self, name: str) -> str:
        return self.apps()[name]["pm2_env"]["status"]

    def pid(self, name: str) -> int:
        return int(self.apps()[name]["pid"])

    def restarts(self, name: str) -> int:
        return int(self.apps()[name]["pm2_env"]["restart_time"])

    def wait_status(self, name: str, status: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status(name) == status:
                return
            time.sleep(0.2)
        raise AssertionError(f"{name} never became {status} (is {self.status(name)})")

    def crash(self, name: str) -> None:
        """Kill the app as a crash would; pm2 restarts it."""
        before = self.restarts(name)
        os.kill(self.pid(name), signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.restarts(name) > before and self.status(name) == "online":
                return
            time.sleep(0.2)
        raise AssertionError(f"pm2 did not restart {name}")


@contextlib.contextmanager
def pm2_daemon() -> Iterator[Pm2]:
    binary = shutil.which("pm2")
    if binary is None:
        unavailable("pm2 is not installed (npm install -g pm2)")
    # Short path: pm2's unix sockets live in PM2_HOME (108-byte limit).
    home = Path(tempfile.mkdtemp(prefix="pm2-"))
    pm2 = Pm2(binary, home, home / "apps")
    pm2.app_dir.mkdir()
    try:
        pm2.run("ping")  # starts this PM2_HOME's own daemon
        yield pm2
    finally:
        subprocess.run(
            [binary, "kill"], env=pm2.env(), capture_output=True, timeout=60, check=False
        )
        with contextlib.suppress(OSError, ValueError):
            os.kill(int((home / "pm2.pid").read_text()), signal.SIGKILL)
        shutil.rmtree(home, ignore_errors=True)


# --- loopback servers -------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpServer:
    """A real HTTP server on 127.0.0.1; `handler(request)` -> (status, body)."""

    handler: Callable[[Recorded], tuple[int, str | bytes | dict]]
    requests: list[Recorded] = field(default_factory=list)
    delay: float = 0.0

    def __post_init__(self) -> None:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Recorded(
                    self.command, self.path, dict(self.headers.items()), self.rfile.read(length)
                )
                outer.requests.append(request)
                if outer.delay:
                    time.sleep(outer.delay)
                status, body = outer.handler(request)
                if isinstance(body, dict | list):
                    body = json.dumps(body)
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> HttpServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def rate_limit_body(remaining: int, limit: int = 5000) -> dict[str, Any]:
    """GitHub's documented GET /rate_limit shape."""
    reset = int(time.time()) + 1800
    core = {"limit": limit, "remaining": remaining, "reset": reset, "used": limit - remaining}
    search = {"limit": 30, "remaining": 30, "reset": reset, "used": 0}
    return {"resources": {"core": core, "search": search}, "rate": core}
