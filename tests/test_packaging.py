"""mechanic as an ordinary (non-editable) pip install: built as a wheel,
installed into a fresh virtualenv, run from outside the source tree.

Offline: the wheel is built with the test environment's own setuptools (no build
isolation, no index), and the runtime packages come from the test environment
by a .pth line, so only mechanic itself is the installed copy.
"""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support.workspace import REPO, Workspace

NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".import_linter_cache",
    ".demo",
    "state",
    "backups",
    "node_modules",
)


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False, **kwargs)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv holding mechanic from a wheel; returns its bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(REPO, source, ignore=NOT_SOURCE, symlinks=True)
    wheels = root / "wheels"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            str(source),
            "-w",
            str(wheels),
        ]
    )
    [wheel] = wheels.glob("mechanic-*.whl")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ]
    )
    # The runtime packages, from the test environment; after the venv's own
    # site-packages, so its mechanic (the wheel's) is the one imported.
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    Path(purelib.stdout.strip(), "test-deps.pth").write_text(sysconfig.get_paths()["purelib"])
    return venv / "bin"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MECHANIC_CONFIG")}
    return env


def test_the_installed_mechanic_is_the_wheel_not_the_checkout(installed, tmp_path):
    where = _run(
        [str(installed / "python"), "-c", "import mechanic; print(mechanic.__file__)"],
        cwd=tmp_path,
        env=_env(),
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.parent)


@pytest.mark.parametrize("platform", ["systemd", "launchd"])
def test_service_install_dry_run_renders_from_a_wheel_install(installed, tmp_path, platform):
    space = Workspace(tmp_path / "ws")
    space.write_config()
    done = _run(
        [
            str(installed / "mechanic"),
            "service",
            "install",
            "--dry-run",
            "--platform",
            platform,
            "--config",
            str(space.config_path),
        ],
        cwd=tmp_path,
        env=_env(),
    )
    python = str(installed / "python")
    if platform == "systemd":
        assert f'ExecStart="{python}" -m mechanic run --config' in done.stdout
        assert "Type=notify" in done.stdout and "@PYTHON@" not in done.stdout
    else:
        plist = plistlib.loads(done.stdout.encode())
        assert plist["ProgramArguments"][0] == python
    assert str(space.config_path.absolute()) in done.stdout


def test_the_top_level_template_folders_hold_the_packaged_templates():
    # The design card's systemd/ and launchd/ folders: the very files the wheel ships.
    for top, name in (("systemd", "mechanic.service"), ("launchd", "local.mechanic.plist")):
        assert (REPO / top / name).read_bytes() == (
            REPO / "mechanic" / "daemon" / "templates" / name
        ).read_bytes()
