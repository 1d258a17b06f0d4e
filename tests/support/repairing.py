"""Running one real repair attempt in-process (config, finder, checkers, the
configured backend, the ladder, the transaction), for tests that repeat it many times."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mechanic.config.load import load_config
from mechanic.detect.checkers import CheckerSet
from mechanic.detect.discovery import Finder
from mechanic.repair.backends import create_backend
from mechanic.repair.ladder import Ladder
from mechanic.repair.validate import ChosenFile
from mechanic.store import AttemptRecord, Store
from mechanic.write.writer import Writer


def attempt(workspace, path: Path, **config) -> AttemptRecord:
    """One attempt at repairing `path` with the workspace's config (written
    with `config` first when given): the ladder's last try, with a fresh store each
    time, so no remembered fix or earlier strike changes what the model is asked."""
    if config:
        workspace.write_config(**config)
    settings = load_config(workspace.config_path)
    finder = Finder(settings)
    backend = create_backend(settings.llm)
    with CheckerSet() as checkers:
        watched = next(f for f in finder.files() if f.real == path.resolve())
        finding = checkers.get(watched.language).check_source(watched.real, path.read_bytes())
        assert finding is not None, f"{path} is not broken"
        records: list[AttemptRecord] = []
        try:
            backend.prepare()
            with tempfile.TemporaryDirectory() as state, Store.open(Path(state)) as store:
                ladder = Ladder(
                    settings,
                    store,
                    backend,
                    checkers,
                    Writer.for_config(settings, guard=finder.guard),
                )
                ladder.run(ChosenFile(watched, finding), records.append)
        finally:
            backend.close()
        assert records, "the ladder made no attempt"
        return records[-1]
