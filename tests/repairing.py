"""Running one real repair attempt in-process (config, finder, checkers, the
configured backend, the transaction), for tests that repeat it many times."""

from __future__ import annotations

from pathlib import Path

from mechanic.backends import create_backend
from mechanic.checkers import CheckerSet
from mechanic.config import load_config
from mechanic.discovery import Finder
from mechanic.repair import Candidate, Repairer
from mechanic.store import AttemptRecord


def attempt(workspace, path: Path, **config) -> AttemptRecord:
    """One attempt at repairing `path` with the workspace's config (written
    with `config` first when given)."""
    if config:
        workspace.write_config(**config)
    settings = load_config(workspace.config_path)
    finder = Finder(settings)
    backend = create_backend(settings.llm)
    with CheckerSet() as checkers:
        watched = next(f for f in finder.files() if f.real == path.resolve())
        finding = checkers.get(watched.language).check_source(watched.real, path.read_bytes())
        assert finding is not None, f"{path} is not broken"
        try:
            backend.prepare()
            return Repairer(settings, backend, checkers, finder.guard).attempt(
                Candidate(watched, finding)
            )
        finally:
            backend.close()
