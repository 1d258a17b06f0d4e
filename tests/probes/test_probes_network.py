"""Probes over the network, against real servers on loopback: http, tcp, github,
ollama; and the runner's bounds: concurrency, timeouts, a probe that raises."""

from __future__ import annotations

import time

import pytest

import probes
from probes.base import Probe
from probes.runner import run_probes
from tests.support.probe_kit import configure, probe_toml
from tests.support.services import HttpServer, free_port, rate_limit_body, silent_server


def run(workspace, *tables: str):
    config = configure(workspace, *tables)
    return {r.name: r for r in run_probes(config.probes)}


def one(workspace, type_: str, **keys):
    return run(workspace, probe_toml("p", type_, **keys))["p"]


# --- http -------------------------------------------------------------------


def test_http_checks_status_text_and_latency(workspace):
    with HttpServer(lambda req: (200, "status: ok")) as server:
        good = one(workspace, "http", url=server.url + "/health", contains="ok")
        assert good.status == "ok" and good.metrics["status_code"] == 200
        missing = one(workspace, "http", url=server.url, contains="ready")
        assert missing.status == "down" and "without 'ready'" in missing.message
        wrong = one(workspace, "http", url=server.url, expect_status=[201, 204])
        assert wrong.status == "down" and "answered 200, expected 201/204" in wrong.message
        server.delay = 0.3
        slow = one(workspace, "http", url=server.url, max_latency_ms=100)
        assert slow.status == "degraded" and "(max 100 ms)" in slow.message


def test_http_server_error_and_refused_port(workspace):
    with HttpServer(lambda req: (503, "busy")) as server:
        assert one(workspace, "http", url=server.url).status == "down"
    port = free_port()  # nothing listens there
    refused = one(workspace, "http", url=f"http://127.0.0.1:{port}/")
    assert refused.status == "down" and "refused" in refused.message


def test_tcp_open_and_refused(workspace):
    with silent_server() as port:
        assert one(workspace, "tcp", port=port).status == "ok"
    refused = one(workspace, "tcp", host="127.0.0.1", port=free_port())
    assert refused.status == "down" and "refused" in refused.message


# --- the runner's bounds ----------------------------------------------------------


def test_servers_that_never_answer_cost_one_timeout_not_the_sum(workspace):
    with silent_server() as port:
        tables = [
            probe_toml(f"hang{i}", "http", url=f"http://127.0.0.1:{port}/", timeout_seconds=1)
            for i in range(4)
        ]
        tables.append(probe_toml("fine", "tcp", port=port))
        started = time.monotonic()
        results = run(workspace, *tables)
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"4 hanging probes of 1 s took {elapsed:.1f} s"
    for i in range(4):
        assert results[f"hang{i}"].status == "down"
        assert "did not answer within 1s" in results[f"hang{i}"].message
    assert results["fine"].status == "ok"


class _Stuck(Probe):
    """A probe that ignores its own timeout (a library call that never returns)."""

    type = "stuck"

    def check(self, previous):
        time.sleep(30)


class _Raises(Probe):
    type = "raises"

    def check(self, previous):
        raise RuntimeError("probe bug")


@pytest.fixture
def extra_types():
    probes.REGISTRY.register("stuck")(_Stuck)
    probes.REGISTRY.register("raises")(_Raises)
    yield
    probes.REGISTRY.unregister("stuck")
    probes.REGISTRY.unregister("raises")


def test_a_probe_that_ignores_its_timeout_is_abandoned_at_it(workspace, extra_types):
    started = time.monotonic()
    results = run(
        workspace,
        probe_toml("stuck", "stuck", timeout_seconds=1),
        probe_toml("disk", "disk", min_free_percent=0),
    )
    assert time.monotonic() - started < 2.5
    assert results["stuck"].status == "down"
    assert results["stuck"].message == "no answer within 1s (timeout_seconds)"
    assert results["disk"].status == "ok"


def test_a_probe_that_raises_is_an_error_for_itself_alone(workspace, extra_types):
    results = run(
        workspace,
        probe_toml("bad", "raises"),
        probe_toml("disk", "disk", min_free_percent=0),
    )
    assert results["bad"].status == "error"
    assert results["bad"].message == "probe crashed: RuntimeError: probe bug"
    assert results["disk"].status == "ok"


# --- github -------------------------------------------------------------------------


@pytest.fixture
def github():
    state = {"remaining": 4000, "status": 200}

    def handler(req):
        if req.path != "/rate_limit":
            return 404, {"message": "Not Found"}
        if state["status"] != 200:
            return state["status"], {"message": "Bad credentials"}
        return 200, rate_limit_body(state["remaining"])

    with HttpServer(handler) as server:
        server.state = state
        yield server


def test_github_reports_the_rate_limit_and_sends_the_token_as_bearer(
    workspace, github, monkeypatch
):
    monkeypatch.setenv("MECHANIC_TEST_GH", "ghp_" + "t0ken" * 8)
    result = one(
        workspace, "github", api_url=github.url, token_env="MECHANIC_TEST_GH", min_remaining=100
    )
    assert result.status == "ok" and result.message == "4000/5000 requests left"
    assert result.metrics["remaining"] == 4000
    request = github.requests[-1]
    assert request.headers["Authorization"] == "Bearer ghp_" + "t0ken" * 8
    assert request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    github.state["remaining"] = 20
    low = one(workspace, "github", api_url=github.url, token_env="MECHANIC_TEST_GH")
    assert low.status == "degraded" and "20/5000 requests left (min 100)" in low.message


def test_github_without_token_and_with_a_rejected_one(workspace, github, monkeypatch):
    anonymous = one(workspace, "github", api_url=github.url, min_remaining=10)
    assert anonymous.status == "ok" and "(no token)" in anonymous.message
    assert "Authorization" not in github.requests[-1].headers
    monkeypatch.delenv("MECHANIC_TEST_GH", raising=False)
    unset = one(workspace, "github", api_url=github.url, token_env="MECHANIC_TEST_GH")
    assert unset.status == "error" and "MECHANIC_TEST_GH (token_env) is not set" in unset.message
    monkeypatch.setenv("MECHANIC_TEST_GH", "expired-token-value")
    github.state["status"] = 401
    rejected = one(workspace, "github", api_url=github.url, token_env="MECHANIC_TEST_GH")
    assert rejected.status == "down" and "refused the token in MECHANIC_TEST_GH" in rejected.message
    assert "expired-token-value" not in rejected.message


def test_github_against_something_else_is_down(workspace):
    with HttpServer(lambda req: (200, {"hello": "world"})) as server:
        result = one(workspace, "github", api_url=server.url)
    assert result.status == "down" and "not GitHub's /rate_limit" in result.message


# --- ollama -----------------------------------------------------------------------


def test_ollama_reachable_with_its_model(workspace, ollama_standin):
    result = one(workspace, "ollama", host=ollama_standin.url, model="qwen2.5-coder:7b")
    assert result.status == "ok" and "qwen2.5-coder:7b" in result.message
    assert result.metrics["models"] == 1
    assert result.message.endswith("(1 model)")  # not "(1 models)" (issue 13)


def test_ollama_without_the_model_is_degraded_and_says_how_to_get_it(workspace, ollama_standin):
    result = one(workspace, "ollama", host=ollama_standin.url, model="llama3:8b")
    assert result.status == "degraded"
    assert "ollama pull llama3:8b" in result.message


def test_ollama_one_token_generation_with_thinking_off(workspace, ollama_standin):
    result = one(
        workspace, "ollama", host=ollama_standin.url, model="qwen2.5-coder:7b", generate=True
    )
    assert result.status == "ok"
    (request,) = ollama_standin.inference_requests
    assert request.json["think"] is False and request.json["options"]["num_predict"] == 1


def test_ollama_absent_is_down(workspace):
    result = one(workspace, "ollama", host=f"http://127.0.0.1:{free_port()}")
    assert result.status == "down" and "no Ollama server" in result.message
