"""The pm2 probe and restart_pm2 remediation against a real pm2 daemon running a
real node app (tests/support/services.py), which the tests crash and stop."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from mechanic.store import Store
from probes.runner import run_probes
from tests.support.probe_kit import configure, cycle, outcome, probe_toml


def pm2_probe(pm2, **keys) -> str:
    return probe_toml("pm2", "pm2", pm2_home=str(pm2.home), **keys)


def test_online_apps_are_ok_and_a_stopped_one_is_down(workspace, pm2):
    pm2.start("web")
    pm2.start("worker")
    config = configure(workspace, pm2_probe(pm2))
    first = outcome(cycle(config), "pm2").result
    assert first.status == "ok" and first.message == "2 apps online: web, worker"
    pm2.run("stop", "worker")
    stopped = outcome(cycle(config), "pm2").result
    assert stopped.status == "down" and stopped.message == "worker is stopped"


def test_one_app_online_reads_one_app(workspace, pm2):
    """The morning after (issue 13): the probe said "1 app(s) online"."""
    pm2.start("web")
    config = configure(workspace, pm2_probe(pm2))
    assert outcome(cycle(config), "pm2").result.message == "1 app online: web"


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

    from tests.support.services import unavailable

    monkeypatch.setenv("MECHANIC_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="MECHANIC_REQUIRE_SERVICES is set but pm2"):
        unavailable("pm2 is not installed")
    monkeypatch.delenv("MECHANIC_REQUIRE_SERVICES")
    with pytest.raises(pytest.skip.Exception):
        unavailable("pm2 is not installed")


# --- a worker crash-looping on a module that lost a brace -----------------------

WORKER_JS = """\
// Needs lib/format.js; notes each start that got past the require, then beats.
const fs = require('fs');
const { format } = require('./lib/format');

fs.appendFileSync(process.env.STARTS_FILE, `${process.pid}\n`);
const beat = () => fs.writeFileSync(process.env.BEAT_FILE, format(Date.now()));
beat();
setInterval(beat, 200);
"""
FORMAT_JS = """\
function format(value) {
  return '[' + String(value) + ']';
}

module.exports = { format };
"""
FORMAT_JS_BROKEN = FORMAT_JS.replace("]';\n}\n", "]';\n\n")  # lost its `}`


def crash_looping_worker(workspace, pm2):
    """worker.js under pm2, crash-looping because lib/format.js lost a `}` (pm2
    gives up after three restarts: "errored"; every crash within a minute counts, so a
    slow start on a loaded machine is still a crash loop); its stderr is in pm2's error log."""
    import subprocess

    worker = workspace.file("worker.js", WORKER_JS)
    formatter = workspace.file("lib/format.js", FORMAT_JS_BROKEN)
    env = {
        **pm2.env(),
        "BEAT_FILE": str(workspace.root / "worker.beat"),
        "STARTS_FILE": str(workspace.root / "worker.starts"),
    }
    # An ecosystem file: this pm2's CLI has no --min-uptime flag.
    ecosystem = workspace.root / "ecosystem.json"
    app = {"name": "worker", "script": str(worker), "max_restarts": 3, "min_uptime": 60000}
    ecosystem.write_text(json.dumps({"apps": [app]}))
    subprocess.run(
        [pm2.binary, "start", str(ecosystem)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pm2.wait_status("worker", "errored", timeout=60)
    log = pm2.home / "logs" / "worker-error.log"
    assert "Unexpected end of input" in log.read_text()
    assert f"{worker}:3" in log.read_text()  # the requiring frame is in the stack
    return worker, formatter


def pm2_watch_config(workspace, pm2, *, on_fix: bool):
    """Watch src/, tail pm2's error logs, probe the worker (on_down restarts it)."""
    workspace.write_config(
        watch={"path": "src"},
        raw=(
            f'\n[[errorlog]]\npath = "{pm2.home}/logs/*-error.log"\n\n'
            + pm2_probe(
                pm2,
                apps=["worker"],
                timeout_seconds=30,  # pm2 jlist is slow on a loaded machine
                on_down='{ action = "restart_pm2", app = "worker" }',
            )
        ),
    )
    if on_fix:
        text = workspace.config_path.read_text().replace(
            'path = "src"\n', 'path = "src"\non_fix = { action = "restart_pm2", app = "worker" }\n'
        )
        workspace.config_path.write_text(text)
    from mechanic.config.load import load_config

    return load_config(workspace.config_path)


def wait_for_beat(workspace) -> str:
    beat = workspace.root / "worker.beat"
    deadline = time.monotonic() + 20
    while not beat.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return beat.read_text()


def test_a_require_crash_blames_only_format_js_and_on_down_restarts_after_the_fix(workspace, pm2):
    worker, formatter = crash_looping_worker(workspace, pm2)
    config = pm2_watch_config(workspace, pm2, on_fix=False)
    report = cycle(config)
    # worker.js parses: it only required the file that does not. It is never blamed.
    assert [Path(f.path).name for f in report.scan.findings.values()] == ["format.js"]
    assert [Path(e.path).name for e in report.runtime] == ["format.js"]
    assert [(Path(a.path).name, a.outcome) for a in report.attempts] == [("format.js", "applied")]
    assert worker.read_text() == WORKER_JS and formatter.read_text() == FORMAT_JS
    # The restart came after the fix, so the worker starts, once, on the fixed file.
    probe = outcome(report, "pm2")
    assert probe.rechecked is not None and probe.rechecked.status == "down"
    assert probe.action == "pm2 restart worker: done"
    pm2.wait_status("worker", "online")
    assert wait_for_beat(workspace).startswith("[")
    assert len((workspace.root / "worker.starts").read_text().split()) == 1


def test_a_require_crash_blames_only_format_js_and_on_fix_restarts_the_worker_once(
    workspace, pm2, monkeypatch
):
    worker, formatter = crash_looping_worker(workspace, pm2)
    monkeypatch.setenv("PM2_HOME", str(pm2.home))  # on_fix's pm2 is the user's own
    config = pm2_watch_config(workspace, pm2, on_fix=True)
    starts = workspace.root / "worker.starts"
    assert not starts.exists()  # every start so far died in the require
    report = cycle(config)

    # Only the file that does not parse is blamed: worker.js parses, it only required it.
    assert [Path(f.path).name for f in report.scan.findings.values()] == ["format.js"]
    assert [Path(e.path).name for e in report.runtime] == ["format.js"]
    (attempt,) = report.attempts
    assert (Path(attempt.path).name, attempt.outcome) == ("format.js", "applied")
    assert formatter.read_text() == FORMAT_JS
    assert worker.read_text() == WORKER_JS

    # on_fix restarted the worker once, on the fixed file; on_down then had nothing to do.
    (action,) = report.fix_actions
    assert action.ok and action.detail == "pm2 restart worker: done"
    probe = outcome(report, "pm2")
    assert probe.result.status == "down" and "worker is errored" in probe.result.message
    assert probe.rechecked is not None and probe.rechecked.status != "down"
    assert probe.action is None
    pm2.wait_status("worker", "online")
    assert wait_for_beat(workspace).startswith("[")  # it runs, with the fixed format()
    assert len(starts.read_text().split()) == 1  # started exactly once

    quiet = cycle(config)  # nothing left to fix: no on_fix, no restart
    assert quiet.attempts == [] and quiet.fix_actions == []
    assert outcome(quiet, "pm2").result.status == "ok"
    assert len(starts.read_text().split()) == 1
    with Store.open(config.mechanic.state_dir) as store:
        assert [a.detail for a in store.fix_actions()] == ["pm2 restart worker: done"]
        assert store.probe_actions("pm2") == []


# --- a given-up pm2 probe that is healthy again ----------------------------------


def test_a_given_up_app_that_is_online_again_sends_no_still_given_up(workspace, pm2):
    """The morning after (issue 13): 7 of 23 alerts were "pm2 still given up (ok → ok)",
    sent while the app was online. Reminded while down; once it is back, the
    recovery is the last word until it re-arms."""
    from tests.support.services import HttpServer

    pm2.start("web")
    with HttpServer(lambda req: (200, "ok")) as hook:
        config = configure(
            workspace,
            pm2_probe(
                pm2,
                apps=["web"],
                on_down='{ action = "restart_pm2", app = "web", max_actions = 1,'
                " within_cycles = 20, reset_after_cycles = 10 }",
            ),
            alerts={"webhook_url": hook.url},
        )
        cycle(config)  # first sight: ok
        pm2.run("stop", "web")
        assert outcome(cycle(config), "pm2").action == "pm2 restart web: done"
        pm2.run("stop", "web")  # the restart did not help
        assert outcome(cycle(config), "pm2").event == "given up"
        cycle(config)  # still stopped: reminded
        pm2.run("restart", "web")  # a person brings it back
        assert outcome(cycle(config), "pm2").event == "recovered"
        for _ in range(3):
            healthy = outcome(cycle(config), "pm2")
            assert healthy.result.status == "ok" and healthy.state.given_up is True
        sent = [(r.json()["event"], r.json()["status"]) for r in hook.requests]
    assert sent == [
        ("down", "down"),
        ("given up", "down"),
        ("still given up", "down"),
        ("recovered", "ok"),
    ]
