"""The model user: a workspace whose config.toml talks to the Ollama stand-in.

The `user` fixture in tests/conftest.py builds one. A test module that needs other
defaults (daemon timings, the block rung, an error log) overrides the `user_config`
fixture with a :class:`UserConfig`; `user.configure(...)` then rewrites config.toml from
those defaults plus what the test says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.ollama_standin import OllamaStandIn
from tests.support.workspace import Workspace

TABLES = ("mechanic", "llm", "watch", "repair")


@dataclass(frozen=True)
class UserConfig:
    """What the `user` fixture writes into config.toml.

    `keys` names the table that `configure`'s plain keyword arguments go into
    (`user.configure(quiet_seconds=2)` sets `[mechanic] quiet_seconds` by default).
    `repair=None` leaves [repair] to Workspace.write_config (zero-token rung off).
    `folders` are made in the workspace before the first write (a log folder, say).
    """

    keys: str = "mechanic"
    timeout_seconds: float = 20
    mechanic: dict[str, Any] = field(default_factory=dict)
    llm: dict[str, Any] = field(default_factory=dict)
    watch: dict[str, Any] = field(default_factory=dict)
    repair: dict[str, Any] | None = None
    raw: str = ""
    folders: tuple[str, ...] = ()


def model_user(workspace: Workspace, standin: OllamaStandIn, config: UserConfig) -> Workspace:
    """`workspace` configured for `standin`, with `.configure(...)` and `.ollama` attached.

    `configure(raw=..., mechanic={...}, repair={...}, **keys)`: a table given by name is
    merged over the defaults' table, `raw` replaces the defaults' raw TOML, and any other
    keyword goes into the `config.keys` table.
    """
    for folder in config.folders:
        (workspace.root / folder).mkdir(parents=True, exist_ok=True)

    def configure(**given: Any) -> None:
        tables: dict[str, dict[str, Any] | None] = {
            "mechanic": dict(config.mechanic),
            "llm": {
                "backend": "ollama",
                "host": standin.url,
                "timeout_seconds": config.timeout_seconds,
                **config.llm,
            },
            "watch": dict(config.watch),
            "repair": None if config.repair is None else dict(config.repair),
        }
        raw = given.pop("raw", config.raw)
        for name in TABLES:
            if name in given:
                tables[name] = {**(tables[name] or {}), **given.pop(name)}
        table = tables[config.keys]
        tables[config.keys] = {**(table or {}), **given}
        workspace.write_config(
            mechanic=tables["mechanic"],
            llm=tables["llm"],
            watch=tables["watch"] or None,
            repair=tables["repair"],
            raw=raw,
        )

    configure()
    workspace.configure = configure
    workspace.ollama = standin
    return workspace
