"""`mechanic service install|uninstall|status`: mechanic as a user service.

Linux gets a systemd user unit (systemd/mechanic.service), macOS a launchd
LaunchAgent (launchd/local.mechanic.plist). Both templates live in the package
(mechanic/daemon/templates/, the top-level folders link to them) so an ordinary
`pip install` has them too. The template is filled in with
this interpreter and this config, written to the user's unit folder, and
started; every command run is printed exactly as it is run.

Environment overrides, so tests and unusual setups never touch the real
user's folders or service manager: MECHANIC_SERVICE_DIR (the folder the file
is written to), MECHANIC_SYSTEMCTL and MECHANIC_LAUNCHCTL (the tools).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from xml.sax.saxutils import escape

from mechanic.errors import ServiceError
from mechanic.files.atomic import write_atomic

UNIT_NAME = "mechanic.service"
LABEL = "local.mechanic"
PLATFORMS = ("systemd", "launchd")
# Where node, npm and pm2 usually live; launchd's own PATH has none of them.
USUAL_BINS = ("/opt/homebrew/bin", "/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin")


def current_platform() -> str:
    if sys.platform == "darwin":
        return "launchd"
    if sys.platform.startswith("linux"):
        return "systemd"
    raise ServiceError(f"no service template for {sys.platform}: run `mechanic run` yourself")


@dataclass(frozen=True)
class Service:
    platform: str  # "systemd" | "launchd"
    config: Path

    @property
    def template(self) -> Traversable:
        name = UNIT_NAME if self.platform == "systemd" else f"{LABEL}.plist"
        return resources.files("mechanic.daemon") / "templates" / name

    @property
    def folder(self) -> Path:
        override = os.environ.get("MECHANIC_SERVICE_DIR")
        if override:
            return Path(override).expanduser()
        if self.platform == "launchd":
            return Path.home() / "Library" / "LaunchAgents"
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(base) / "systemd" / "user"

    @property
    def path(self) -> Path:
        name = UNIT_NAME if self.platform == "systemd" else f"{LABEL}.plist"
        return self.folder / name

    @property
    def log_dir(self) -> Path:
        return Path.home() / "Library" / "Logs" / "mechanic"

    @property
    def tool(self) -> str | None:
        name = "systemctl" if self.platform == "systemd" else "launchctl"
        override = os.environ.get(f"MECHANIC_{name.upper()}")
        return override or shutil.which(name)

    @property
    def domain(self) -> str:
        return f"gui/{os.getuid()}"

    def render(self) -> str:
        try:
            text = self.template.read_text(encoding="utf-8")
        except OSError as exc:
            raise ServiceError(
                f"service template {self.template} is missing ({exc.strerror or exc}): this"
                " mechanic install is incomplete; reinstall it (pip install --force-reinstall)"
            ) from None
        values = {
            "PYTHON": sys.executable,
            "CONFIG": str(self.config.expanduser().absolute()),
            "WORKDIR": str(self.config.expanduser().absolute().parent),
            "PATH": service_path(),
            "LOGDIR": str(self.log_dir),
        }
        quote = _systemd if self.platform == "systemd" else escape
        for name, value in values.items():
            text = text.replace(f"@{name}@", quote(value))
        return text

    # --- commands -------------------------------------------------------------

    def start_commands(self) -> list[list[str]]:
        tool = self._need_tool()
        if self.platform == "systemd":
            return [
                [tool, "--user", "daemon-reload"],
                [tool, "--user", "enable", "--now", UNIT_NAME],
            ]
        return [[tool, "bootstrap", self.domain, str(self.path)]]

    def stop_commands(self) -> list[list[str]]:
        tool = self._need_tool()
        if self.platform == "systemd":
            return [[tool, "--user", "disable", "--now", UNIT_NAME]]
        return [[tool, "bootout", self.domain, str(self.path)]]

    def loaded(self) -> bool:
        """Whether the service manager knows the service (launchd) or runs it (systemd)."""
        tool = self.tool
        if tool is None:
            return False
        if self.platform == "systemd":
            argv = [tool, "--user", "is-active", "--quiet", UNIT_NAME]
        else:
            argv = [tool, "print", f"{self.domain}/{LABEL}"]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=15, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0

    def _need_tool(self) -> str:
        tool = self.tool
        if tool is None:
            name = "systemctl" if self.platform == "systemd" else "launchctl"
            raise ServiceError(
                f"{name} is not on PATH: this machine's service manager cannot be driven"
                f" (the {self.platform} file is {self.path})"
            )
        return tool


def service_path() -> str:
    """PATH for the service: the folders of this interpreter and of node, then the
    usual places (Homebrew's included), then the rest of the current PATH."""
    first = [str(Path(sys.executable).parent)]
    node = shutil.which("node")
    if node:
        first.append(str(Path(node).parent))
    current = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    folders: list[str] = []
    for folder in [*first, *USUAL_BINS, *current]:
        if folder not in folders:
            folders.append(folder)
    return os.pathsep.join(folders)


def _systemd(value: str) -> str:
    # Inside a unit file % starts a specifier and $ a variable; quotes need a backslash.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")


def run_command(argv: list[str], *, check: bool = True) -> int:
    """Run one command, printing it exactly first and its output after."""
    print(f"$ {shlex.join(argv)}", flush=True)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        raise ServiceError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    except subprocess.TimeoutExpired:
        raise ServiceError(f"{shlex.join(argv)} did not finish within 60 s") from None
    for line in (done.stdout + done.stderr).splitlines():
        print(f"  {line}")
    if check and done.returncode != 0:
        raise ServiceError(f"{shlex.join(argv)} failed (exit {done.returncode})")
    return done.returncode


def install(service: Service) -> None:
    text = service.render()
    service.path.parent.mkdir(parents=True, exist_ok=True)
    if service.platform == "launchd":
        service.log_dir.mkdir(parents=True, exist_ok=True)
        if service.loaded():  # bootstrap refuses a label that is already loaded
            for argv in service.stop_commands():
                run_command(argv, check=False)
    write_atomic(service.path, text.encode("utf-8"))
    print(f"wrote {service.path}")
    try:
        for argv in service.start_commands():
            run_command(argv)
    except ServiceError as exc:
        if service.platform != "systemd":
            raise
        # The usual cause: no user manager to talk to (an ssh or sudo session).
        raise ServiceError(
            f"{exc}; is there a systemd user session? (`systemctl --user status`; over ssh"
            f' run `loginctl enable-linger "$USER"` and log in again)'
        ) from None


def uninstall(service: Service) -> bool:
    """Stop and remove the service; False when it was not installed."""
    if not service.path.exists():
        return False
    if service.tool is not None:
        for argv in service.stop_commands():
            run_command(argv, check=False)  # stopping a stopped service is no failure
    service.path.unlink()
    print(f"removed {service.path}")
    if service.platform == "systemd" and service.tool is not None:
        run_command([service.tool, "--user", "daemon-reload"], check=False)
    return True
