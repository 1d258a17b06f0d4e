"""`run`, `service`, `doctor`, `log`: mechanic as a daemon and a user service."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

from mechanic.cli.common import (
    EXIT_BROKEN,
    EXIT_OK,
    EXIT_USAGE,
    config_of,
)
from mechanic.config.load import find_config, load_config


def cmd_log(args: argparse.Namespace) -> int:
    from mechanic.log import LOG_NAME, format_line

    config = config_of(args)
    path = config.mechanic.state_dir / LOG_NAME
    if not path.exists() and not args.follow:
        print(f"no log yet at {path}", file=sys.stderr)
        return EXIT_OK
    lines: list[str] = []
    if path.exists():
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.readlines()
    for line in lines[-args.lines :] if args.lines > 0 else []:
        print(format_line(line), flush=True)
    if not args.follow:
        return EXIT_OK
    return _follow(path, len("".join(lines).encode("utf-8")), format_line)


def _follow(path: Path, offset: int, format_line: Callable[[str], str]) -> int:
    from mechanic.files.tail import Tail

    tail = Tail.at(path, offset)  # across rotation and truncation (mechanic/files/tail.py)
    try:
        while True:
            try:
                data = tail.read()
            except FileNotFoundError:
                data = b""
            for line in data.decode("utf-8", "replace").splitlines():
                print(format_line(line), flush=True)
            time.sleep(0.5)
    except KeyboardInterrupt:
        return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from mechanic.daemon import main as daemon

    return daemon.run(find_config(args.config))


def cmd_service(args: argparse.Namespace) -> int:
    from mechanic.daemon import service as services
    from mechanic.daemon.main import running_daemon

    path = find_config(args.config)
    config = load_config(path)  # a service that cannot load its config would only crash-loop
    service = services.Service(args.platform or services.current_platform(), path.absolute())
    if args.action == "install":
        if args.dry_run:
            print(service.render(), end="")
            return EXIT_OK
        services.install(service)
        print(f"mechanic runs as a {service.platform} service; its log: {_log_hint(service)}")
        return EXIT_OK
    if args.action == "uninstall":
        if args.dry_run:
            for argv in service.stop_commands() if service.tool else []:
                print(f"would run: {shlex.join(argv)}")
            print(f"would remove: {service.path}")
            return EXIT_OK
        if not services.uninstall(service):
            print(f"not installed: no {service.path}")
        return EXIT_OK
    installed = service.path.exists()
    print(f"service file: {service.path} ({'installed' if installed else 'not installed'})")
    if installed and service.path.read_text(encoding="utf-8") != service.render():
        print("  it differs from what `mechanic service install` writes now: run that again")
    tool = service.tool
    loaded = installed and tool is not None and service.loaded()
    if tool is None:
        print(
            f"service manager: {'systemctl' if service.platform == 'systemd' else 'launchctl'}"
            " not found"
        )
    else:
        print(f"service manager: {'running' if loaded else 'not running'}")
    daemon = running_daemon(config.mechanic.state_dir)
    if daemon:
        watcher = daemon.get("watcher")
        print(
            f"daemon: running, pid {daemon.get('pid')}"
            + (f", watching with {watcher}" if watcher else "")
        )
    else:
        print(f"daemon: none running on {config.mechanic.state_dir}")
    print(f"log: {_log_hint(service)}")
    return EXIT_OK if loaded else EXIT_BROKEN


def cmd_doctor(args: argparse.Namespace) -> int:
    from mechanic.daemon import doctor

    config, checks = doctor.diagnose(find_config(args.config).absolute())
    print(doctor.report(checks))
    if config is None:
        return EXIT_USAGE
    return EXIT_BROKEN if any(c.verdict == doctor.PROBLEM for c in checks) else EXIT_OK


def _log_hint(service) -> str:
    if service.platform == "systemd":
        return "journalctl --user -u mechanic -f  (or: mechanic log -f)"
    return f"tail -f {service.log_dir}/mechanic.err.log  (or: mechanic log -f)"
