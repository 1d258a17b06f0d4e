"""`mechanic doctor`: is everything mechanic needs in place? Each problem comes
with the command that fixes it."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shlex
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mechanic.config.load import load_config
from mechanic.config.settings import Config
from mechanic.errors import BackendError, ConfigError, ModelNotFound
from mechanic.files import private
from mechanic.plural import plural

OK, NOTE, PROBLEM = "ok", "note", "problem"


@dataclass(frozen=True)
class Check:
    name: str
    verdict: str  # ok | note | problem
    detail: str
    fix: str | None = None


def diagnose(config_path: Path) -> tuple[Config | None, list[Check]]:
    """Every check, in order; the config first, since the rest depend on it."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        return None, [_config_problem(config_path, exc)]
    checks = [Check("config", OK, str(config.source))]
    for check in (
        _backend,
        _node,
        _state_folder,
        _state_store,
        _privacy,
        _watch_roots,
        _errorlogs,
        _test_commands,
        _service,
        _daemon,
        _watch_limits,
    ):
        checks.extend(check(config))
    return config, checks


def _config_problem(path: Path, exc: ConfigError) -> Check:
    where = f"{exc.file or path}" + (f":{exc.line}" if exc.line else "")
    fix = f"edit {where}" + (f" ({exc.key})" if exc.key else "")
    if exc.key and exc.key.startswith("watch[") and exc.key.endswith(".path"):
        missing = exc.detail.split(" does not exist")[0]
        if missing != exc.detail:
            fix = f"mkdir -p {shlex.quote(missing)}   (or {fix})"
    return Check("config", PROBLEM, str(exc), fix)


def _backend(config: Config) -> Iterator[Check]:
    llm = config.llm
    if llm.backend == "none":
        yield Check("backend", NOTE, "llm.backend is 'none': broken files are reported, not fixed")
        return
    if llm.backend == "embedded":
        yield from _embedded(config)
        return
    from mechanic.repair.backends.ollama import OllamaBackend

    quick = dataclasses.replace(llm, timeout_seconds=min(llm.timeout_seconds, 5.0))
    backend = OllamaBackend(quick)
    try:
        backend.prepare()  # asks the server about the model: reachable and pulled
    except ModelNotFound as exc:
        yield Check("backend", PROBLEM, str(exc), f"ollama pull {shlex.quote(llm.model)}")
        return
    except BackendError as exc:
        yield Check(
            "backend",
            PROBLEM,
            str(exc),
            "ollama serve   (macOS app: open -a Ollama; Linux service: systemctl start ollama)"
            f"; or set llm.host in {config.source}",
        )
        return
    finally:
        backend.close()
    yield Check(
        "backend",
        OK,
        f"Ollama at {llm.host} has {llm.model} (context {backend.context_tokens()} tokens)",
    )


def _embedded(config: Config) -> Iterator[Check]:
    from mechanic.repair.backends.embedded import INSTALL_HINT, default_model_path

    if importlib.util.find_spec("llama_cpp") is None:
        yield Check("backend", PROBLEM, "llama-cpp-python is not installed", INSTALL_HINT)
        return
    path = config.llm.model_path
    try:
        path = path or default_model_path()
    except ModelNotFound as exc:
        yield Check("backend", PROBLEM, str(exc), INSTALL_HINT)
        return
    if not path.is_file():
        yield Check(
            "backend",
            PROBLEM,
            f"llm.model_path {path} does not exist",
            f"put a GGUF model at {path} or edit llm.model_path in {config.source}",
        )
        return
    yield Check("backend", OK, f"embedded model {path}")


def _javascript_watched(config: Config) -> bool:
    from mechanic.detect.discovery import Finder

    return any(f.language == "javascript" for f in Finder(config).files())


def _node(config: Config) -> Iterator[Check]:
    from mechanic.detect.checkers.javascript import find_node

    if not _javascript_watched(config):
        return
    configured = config.mechanic.node
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            yield Check("node", OK, f"{configured} (mechanic.node)")
        else:
            yield Check(
                "node",
                PROBLEM,
                f"mechanic.node {configured} is not an executable file",
                f"edit mechanic.node in {config.source} (which node)",
            )
        return
    found = find_node()
    if found:
        yield Check("node", OK, f"{found} checks the JavaScript files")
        return
    install = "brew install node" if sys.platform == "darwin" else "sudo apt install nodejs"
    yield Check(
        "node",
        PROBLEM,
        "JavaScript files are watched but node is not found: they cannot be checked",
        f'{install}   (or set node = "/path/to/node" in [mechanic])',
    )


def _writable(folder: Path) -> str | None:
    try:
        private.make_folder(folder)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _state_folder(config: Config) -> Iterator[Check]:
    for key, folder in (
        ("state_dir", config.mechanic.state_dir),
        ("backup_dir", config.mechanic.backup_dir),
    ):
        problem = _writable(folder)
        if problem:
            yield Check(
                key,
                PROBLEM,
                f"mechanic.{key} {folder} is not writable: {problem}",
                f"mkdir -p {shlex.quote(str(folder))} && chmod u+rwx {shlex.quote(str(folder))}"
                f"   (or edit mechanic.{key} in {config.source})",
            )
        else:
            yield Check(key, OK, f"{folder} is writable")


def _state_store(config: Config) -> Iterator[Check]:
    """The store opens as mechanic's and passes SQLite's integrity check."""
    from mechanic.errors import StoreError, StoreUnusable
    from mechanic.files.names import shown
    from mechanic.store import check_store

    try:
        report = check_store(config.mechanic.state_dir)
    except StoreError as exc:  # busy: another process holds it
        yield Check("store", NOTE, str(exc))
        return
    where = shown(report.path)
    if not report.exists:
        yield Check("store", OK, f"no store yet at {where}: the first cycle makes it")
    elif report.problem:
        command = f"{StoreUnusable.REBUILD} --config {shlex.quote(str(config.source))}"
        fix = command if StoreUnusable.REBUILD in (report.repair or "") else report.repair
        yield Check("store", PROBLEM, report.problem, fix)
    else:
        yield Check("store", OK, f"{where}: integrity ok, store {report.store_id}")


def _privacy(config: Config) -> Iterator[Check]:
    """The state and backup folders hold copies of users' files (backups, the
    store's good versions and diffs, the log): others must not read them.
    mechanic creates them 0700 and its files 0600, but never narrows a folder
    it did not create."""
    from mechanic.log import LOG_NAME
    from mechanic.write.journal import intents_dir
    from mechanic.write.pending import fix_path

    state, backups = config.mechanic.state_dir, config.mechanic.backup_dir
    folders = [state, backups, intents_dir(backups), fix_path(backups, "").parent]
    files = [state / name for name in ("mechanic.sqlite3", "mechanic.sqlite3-wal")]
    files += [state / name for name in ("mechanic.sqlite3-shm", LOG_NAME)]
    files += [state / f"{LOG_NAME}.{n}" for n in range(1, 4)]
    wide = [(path, mode) for path in folders + files if (mode := private.open_to_others(path))]
    if not wide:
        yield Check("privacy", OK, f"{state} and {backups} are readable by their owner only")
        return
    named = ", ".join(f"{path} ({mode:o})" for path, mode in wide)
    tops = [top for top in (state, backups) if any(w == top or top in w.parents for w, _ in wide)]
    yield Check(
        "privacy",
        PROBLEM,
        f"readable by other users, though they hold copies of watched files: {named}",
        f"chmod -R go= {' '.join(shlex.quote(str(t)) for t in dict.fromkeys(tops))}",
    )


def _watch_roots(config: Config) -> Iterator[Check]:
    if not config.watches:
        yield Check(
            "watch", PROBLEM, "no [[watch]] table: nothing is watched", f"edit {config.source}"
        )
    for index, watch in enumerate(config.watches):
        path = watch.path
        if not path.is_dir():
            yield Check(f"watch[{index}]", PROBLEM, f"{path} is missing", f"mkdir -p {path}")
        elif not os.access(path, os.R_OK | os.X_OK):
            yield Check(f"watch[{index}]", PROBLEM, f"{path} is not readable", f"chmod u+rx {path}")
        else:
            yield Check(f"watch[{index}]", OK, f"{path}")


def _errorlogs(config: Config) -> Iterator[Check]:
    import glob

    for index, errorlog in enumerate(config.errorlogs):
        name = f"errorlog[{index}]"
        found = [p for p in glob.glob(errorlog.path, recursive=True) if os.path.isfile(p)]
        unreadable = [p for p in found if not os.access(p, os.R_OK)]
        if unreadable:
            yield Check(
                name,
                PROBLEM,
                f"{plural(len(unreadable), 'log')} not readable, e.g. {unreadable[0]}",
                "run mechanic as the user that owns the logs, or chmod o+r them",
            )
        elif not found:
            folder = Path(errorlog.path).parent
            yield Check(
                name,
                NOTE,
                f"no file matches {errorlog.path} yet; runtime errors start when one does",
                f"ls {shlex.quote(str(folder))}   (or edit errorlog path in {config.source})",
            )
        else:
            yield Check(name, OK, f"{errorlog.path}: {plural(len(found), 'log')}")


def _test_commands(config: Config) -> Iterator[Check]:
    import shutil

    for index, watch in enumerate(config.watches):
        for key in ("smoke_cmd", "test_cmd"):
            args = getattr(watch, key)
            if not args:
                continue
            program = args[0]
            local = (watch.path / program).exists() if "/" in program else False
            if shutil.which(program) is None and not local:
                yield Check(
                    f"watch[{index}].{key}",
                    PROBLEM,
                    f"{program} is not on PATH nor in {watch.path}: fixes there cannot be"
                    " validated, so none is applied",
                    f"install {program}, or give its full path in {config.source}",
                )
            else:
                yield Check(f"watch[{index}].{key}", OK, shlex.join(args))


def _service(config: Config) -> Iterator[Check]:
    from mechanic.daemon.service import Service, current_platform
    from mechanic.errors import ServiceError

    try:
        service = Service(current_platform(), config.source.absolute())
    except ServiceError as exc:
        yield Check("service", NOTE, str(exc))
        return
    if not service.path.exists():
        yield Check(
            "service",
            NOTE,
            f"not installed as a {service.platform} service (mechanic runs only when started)",
            "mechanic service install" + _config_arg(config),
        )
        return
    if service.tool is None:
        yield Check(
            "service", NOTE, f"{service.path} is installed, but there is no service manager here"
        )
        return
    if service.loaded():
        yield Check("service", OK, f"{service.path} is installed and running")
        return
    if service.platform == "systemd":
        fix = "systemctl --user restart mechanic; journalctl --user -u mechanic -n 50"
    else:
        fix = f"launchctl bootstrap gui/{os.getuid()} {shlex.quote(str(service.path))}"
    yield Check("service", PROBLEM, f"{service.path} is installed but not running", fix)


def _config_arg(config: Config) -> str:
    return f" --config {shlex.quote(str(config.source.absolute()))}"


def _daemon(config: Config) -> Iterator[Check]:
    from mechanic.daemon.main import running_daemon
    from mechanic.daemon.watcher import INOTIFY_FIX

    state = running_daemon(config.mechanic.state_dir)
    if state is None:
        yield Check(
            "daemon",
            NOTE,
            f"no mechanic daemon is running on {config.mechanic.state_dir}",
            "mechanic run" + _config_arg(config),
        )
        return
    watcher = state.get("watcher")
    detail = f"pid {state.get('pid')}, watching files with {watcher or 'unknown'}"
    if state.get("watcher_fallback"):
        yield Check(
            "daemon",
            PROBLEM,
            f"{detail}: {state['watcher_fallback']}",
            f"{INOTIFY_FIX}; then restart mechanic (systemctl --user restart mechanic)",
        )
        return
    yield Check("daemon", OK, detail)


def _watch_limits(config: Config) -> Iterator[Check]:
    from mechanic.daemon.watcher import INOTIFY_FIX, count_folders, inotify_limit

    if config.mechanic.file_watcher != "auto":
        yield Check("watch limits", NOTE, f"file_watcher = {config.mechanic.file_watcher!r}")
        return
    limit = inotify_limit()
    if limit is None:
        return  # no inotify (macOS FSEvents has no per-folder limit)
    folders, files = count_folders(config)
    detail = (
        f"inotify needs about {plural(folders, 'watch', 'watches')} (one per folder,"
        f" {plural(files, 'file')});"
        f" fs.inotify.max_user_watches = {limit}"
    )
    if folders >= limit:
        yield Check("watch limits", PROBLEM, detail + ": mechanic will poll instead", INOTIFY_FIX)
    elif folders >= limit * 0.8:
        yield Check("watch limits", NOTE, detail + " (other programs use watches too)", INOTIFY_FIX)
    else:
        yield Check("watch limits", OK, detail)


def report(checks: list[Check]) -> str:
    lines = []
    for check in checks:
        lines.append(f"{check.verdict:<8} {check.name:<13} {check.detail}")
        if check.fix and check.verdict != OK:
            lines.append(f"{'':<8} {'':<13} fix: {check.fix}")
    problems = sum(c.verdict == PROBLEM for c in checks)
    lines.append(f"{problems} problem{'s' if problems != 1 else ''}")
    return "\n".join(lines)
