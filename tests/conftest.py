"""Shared pytest fixtures."""

from collections.abc import Iterator

import pytest

from tests.support.model_user import UserConfig, model_user
from tests.support.ollama_standin import OllamaStandIn


@pytest.fixture
def ollama_standin() -> Iterator[OllamaStandIn]:
    """A started Ollama stand-in on 127.0.0.1 (default model ``qwen2.5-coder:7b``).

    At teardown it is stopped, and test-side problems it met (a responder that raised, scripted
    replies that ran out, an endpoint it does not implement) fail the test; call
    ``ollama_standin.take_errors()`` in a test that provokes them on purpose.
    """
    with OllamaStandIn() as standin:
        yield standin
    standin.check()


@pytest.fixture
def workspace(tmp_path):
    """A user's setup in a temp folder: src/ watched, config.toml, state/, backups/."""
    from tests.support.workspace import Workspace

    space = Workspace(tmp_path)
    space.write_config()
    return space


@pytest.fixture
def user_config() -> UserConfig:
    """The defaults the `user` fixture writes; a module overrides this fixture to change them."""
    return UserConfig()


@pytest.fixture
def user(workspace, ollama_standin, user_config):
    """A workspace whose config talks to the stand-in (`user.ollama`).

    `user.configure(...)` rewrites config.toml from `user_config` plus what the test gives
    (see tests/support/model_user.py)."""
    return model_user(workspace, ollama_standin, user_config)


@pytest.fixture(scope="module")
def postgres():
    """A real PostgreSQL server on a free loopback port (see tests/support/services.py)."""
    from tests.support.services import postgres_server

    with postgres_server() as server:
        yield server


@pytest.fixture
def pm2():
    """A real pm2 daemon with its own PM2_HOME, killed at teardown."""
    from tests.support.services import pm2_daemon

    with pm2_daemon() as daemon:
        yield daemon
