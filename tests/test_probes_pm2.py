"""The pm2 probe and restart_pm2 remediation against a real pm2 daemon running a
real node app (tests/services.py), which the tests crash and stop."""

from __future__ import annotations

import os

from probe_kit import configure, cycle, outcome, probe_toml

from probes.runner import run_probes


def pm2_probe(pm2, **keys) -> str:
    return probe_toml("pm2", "pm2", pm2_home=str(pm2.home), **keys)


def test_online_apps_are_ok_and_a_stopped_one_is_down(workspace, pm2):
    pm2.start("web")
    pm2.start("worker")
    config = configure(workspace, pm2_probe(pm2))
    first = outcome(cycle(config), "pm2").result
    assert first.status == "ok" and first.message == "2 app(s) online: web, worker"
    pm2.run("stop", "worker")
    stopped = outcome(cycle(config), "pm2").result
    assert stopped.status == "down" and stopped.message == "worker is stopped"


def test_a_crash_shows_as_restarts_since_the_last_cycle(workspace, pm2):
    pm2.start("web")
    config = configure(workspace, pm2_probe(pm2, apps=["web"]))
    assert outcome(cycle(config), "pm2").result.status == "ok"
    pm2.crash("web")  # pm2 brings it back: online again, but it crashed
    crashed = outcome(cycle(config), "pm2").result
    assert crashed.status == "degraded"
    assert crashed.message == "web restarted 1x since last cycle"
    assert outcome(cycle(config), "pm2").result.status == "ok"  # no new crash since


def test_a_listed_app_pm2_does_not_know_is_down(workspace, pm2):
    pm2.start("web")
    config = configure(workspace, pm2_probe(pm2, apps=["web", "enricher"]))
    (result,) = run_probes(config.probes)
    assert result.status == "down" and result.message == "enricher is not in pm2's list"


def test_a_daemon_that_is_not_running_is_down_and_not_started(workspace, tmp_path, pm2):
    home = tmp_path / "no-daemon"
    home.mkdir()
    config = configure(workspace, probe_toml("pm2", "pm2", pm2_home=str(home)))
    (result,) = run_probes(config.probes)
    assert result.status == "down" and result.message == "the pm2 daemon is not running"
    assert not (home / "pm2.pid").exists()  # looking never spawns a daemon


def test_pm2_missing_from_path_is_an_error_that_says_so(workspace, tmp_path, monkeypatch):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    config = configure(workspace, probe_toml("pm2", "pm2"))
    (result,) = run_probes(config.probes)
    assert result.status == "error"
    assert "pm2 not found on PATH" in result.message


def test_restart_pm2_brings_a_stopped_app_back(workspace, pm2):
    pm2.start("web")
    config = configure(
        workspace,
        pm2_probe(pm2, apps=["web"], on_down='{ action = "restart_pm2", app = "web" }'),
    )
    pm2.run("stop", "web")
    report = cycle(config)
    down = outcome(report, "pm2")
    assert down.result.status == "down" and down.event == "down"
    assert down.action == "pm2 restart web: done"
    assert pm2.status("web") == "online"
    healed = outcome(cycle(config), "pm2")
    assert healed.result.status == "ok" and healed.event == "recovered"


def test_the_once_command_runs_with_pm2_apps_crashing(workspace, pm2):
    """As a user sees it: `mechanic once` reports the stopped app and restarts it."""
    pm2.start("web")
    configure(
        workspace,
        pm2_probe(pm2, apps=["web"], on_down='{ action = "restart_pm2", app = "web" }'),
    )
    pm2.run("stop", "web")
    result = workspace.run("once", env={"PM2_HOME": str(pm2.home), "PATH": os.environ["PATH"]})
    assert result.returncode == 0, result.stderr
    assert "down      pm2: web is stopped" in result.stdout
    assert "action    pm2: pm2 restart web: done" in result.stdout
    assert pm2.status("web") == "online"


def test_a_missing_service_fails_when_ci_requires_it(monkeypatch):
    import pytest
    from services import unavailable

    monkeypatch.setenv("MECHANIC_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="MECHANIC_REQUIRE_SERVICES is set but pm2"):
        unavailable("pm2 is not installed")
    monkeypatch.delenv("MECHANIC_REQUIRE_SERVICES")
    with pytest.raises(pytest.skip.Exception):
        unavailable("pm2 is not installed")
