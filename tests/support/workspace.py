"""A throwaway user setup for tests: a watch root, a config.toml, and a way to
run the real `mechanic` command against them as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    def attempts(self) -> dict[str, dict[str, Any]]:
        """Attempts of a `once --json` run, by file name."""
        return {Path(a["file"]).name: a for a in self.json["attempts"]}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


class Workspace:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.src = root / "src"
        self.src.mkdir(parents=True, exist_ok=True)
        self.config_path = root / "config.toml"
        self.state = root / "state"
        self.backups = root / "backups"

    def write_config(
        self,
        *,
        mechanic: dict[str, Any] | None = None,
        llm: dict[str, Any] | None = None,
        watch: dict[str, Any] | None = None,
        repair: dict[str, Any] | None = None,
        raw: str = "",
    ) -> Path:
        """Write config.toml. With a model backend the zero-token rung is off unless
        `repair` says otherwise: those tests are about what the model is sent and what
        happens to its answer, on files one small edit would fix."""
        llm_table = {"backend": "none", **(llm or {})}
        if repair is None:
            repair = {} if llm_table["backend"] == "none" else {"deterministic": False}
        sections = {
            "mechanic": {"state_dir": "state", "backup_dir": "backups", **(mechanic or {})},
            "llm": llm_table,
        }
        if repair and "[repair]" not in raw:
            sections["repair"] = repair
        lines = []
        for name, values in sections.items():
            lines.append(f"[{name}]")
            lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
            lines.append("")
        lines.append("[[watch]]")
        for key, value in {"path": "src", **(watch or {})}.items():
            lines.append(f"{key} = {_toml(value)}")
        self.config_path.write_text("\n".join(lines) + "\n" + raw)
        return self.config_path

    def file(self, rel: str, content: str | bytes) -> Path:
        path = self.src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        path.write_bytes(content)
        return path

    def run(self, *args: str, timeout: float = 180, env: dict[str, str] | None = None) -> Result:
        """`mechanic ARGS --config <this workspace's config>` in a subprocess."""
        command = [sys.executable, "-m", "mechanic", *args]
        if "--config" not in args:
            command += ["--config", str(self.config_path)]
        full_env = {**os.environ, "PYTHONPATH": str(REPO)}
        full_env.pop("MECHANIC_CONFIG", None)  # only the config a test names counts
        full_env.update(env or {})
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
            env=full_env,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def backups_of(self, name: str) -> list[Path]:
        if not self.backups.exists():
            return []
        return sorted(p for p in self.backups.iterdir() if p.name.startswith(name + "."))


def once(workspace: Workspace) -> Result:
    """One cycle with `--json`; a crash (any exit but 0 or 1) fails the test with stderr."""
    result = workspace.run("once", "--json")
    assert result.returncode in (0, 1), result.stderr
    return result
