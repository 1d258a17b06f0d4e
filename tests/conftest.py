"""Shared pytest fixtures."""

from collections.abc import Iterator

import pytest
from ollama_standin import OllamaStandIn


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
    from workspace import Workspace

    space = Workspace(tmp_path)
    space.write_config()
    return space


@pytest.fixture(scope="module")
def postgres():
    """A real PostgreSQL server on a free loopback port (see tests/services.py)."""
    from services import postgres_server

    with postgres_server() as server:
        yield server


@pytest.fixture
def pm2():
    """A real pm2 daemon with its own PM2_HOME, killed at teardown."""
    from services import pm2_daemon

    with pm2_daemon() as daemon:
        yield daemon
