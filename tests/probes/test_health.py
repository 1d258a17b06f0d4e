"""The health model as a user meets it: transitions alerted once, reminders,
flaps ignored, bounded remediation, given up and reset, alert channels that fail,
and Layer 2 repairing files while every probe fails."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime

import pytest

from mechanic.alerts import Alert, webhook_request
from mechanic.config.settings import AlertSettings
from mechanic.store import Store
from tests.support.probe_kit import configure, cycle, outcome, probe_toml
from tests.support.services import HttpServer, free_port, silent_server


@pytest.fixture
def switch(tmp_path):
    """A file whose presence the `switch` probe reports: present = ok, gone = down."""
    path = tmp_path / "switch"
    path.write_text("on")
    return path


@pytest.fixture
def hook():
    with HttpServer(lambda req: (200, "ok")) as server:
        yield server


def switch_probe(switch, **keys) -> str:
    return probe_toml("switch", "freshness", path=str(switch), max_age_minutes=60, **keys)


def alerts(hook) -> list[tuple[str, str]]:
    return [(r.json()["probe"], r.json()["event"]) for r in hook.requests]


def test_down_and_recovery_are_alerted_once_each(workspace, switch, hook):
    config = configure(workspace, switch_probe(switch), alerts={"webhook_url": hook.url})
    assert outcome(cycle(config), "switch").event == "ok"  # first sight: noted, not alerted
    switch.unlink()
    for _ in range(3):
        cycle(config)
    switch.write_text("on")
    cycle(config)
    cycle(config)
    assert alerts(hook) == [("switch", "down"), ("switch", "recovered")]
    down = hook.requests[0].json()
    assert down["status"] == "down" and down["previous"] == "ok"
    assert "does not exist" in down["message"] and down["text"].startswith("mechanic: switch down")
    with Store.open(config.mechanic.state_dir) as store:
        kinds = [e.kind for e in store.probe_events("switch")]
    assert kinds == ["ok", "down", "recovered"]


def test_fail_cycles_ignores_a_short_flap(workspace, switch, hook):
    config = configure(
        workspace, switch_probe(switch, fail_cycles=3), alerts={"webhook_url": hook.url}
    )
    cycle(config)
    switch.unlink()
    cycle(config)
    cycle(config)  # two failing cycles: a flap
    switch.write_text("on")
    cycle(config)
    assert alerts(hook) == []
    switch.unlink()
    events = [outcome(cycle(config), "switch").event for _ in range(3)]
    assert events == [None, None, "down"]
    assert alerts(hook) == [("switch", "down")]


def test_reminders_while_down(workspace, switch, hook):
    config = configure(
        workspace, switch_probe(switch, remind_every_cycles=2), alerts={"webhook_url": hook.url}
    )
    switch.unlink()
    for _ in range(5):
        cycle(config)
    assert alerts(hook) == [("switch", "down"), ("switch", "still down"), ("switch", "still down")]


def test_status_shows_each_probe_since_when_and_its_last_message(workspace, switch):
    configure(workspace, switch_probe(switch), probe_toml("never", "tcp", port=free_port()))
    before = time.time()
    assert workspace.run("once").returncode == 0
    status = workspace.run("status", "--json").json
    rows = {row["name"]: row for row in status["probes"]}
    assert (
        rows["switch"]["status"] == "ok"
        and datetime.fromisoformat(rows["switch"]["since"]).timestamp() >= int(before) - 1
    )
    assert rows["never"]["status"] == "down" and "refused" in rows["never"]["message"]
    assert rows["never"]["latency_ms"] is not None
    table = workspace.run("status").stdout
    assert "probes" in table and "switch" in table and "refused" in table


def test_probe_command_runs_now_and_prints_json(workspace, switch):
    configure(workspace, switch_probe(switch), probe_toml("never", "tcp", port=free_port()))
    both = workspace.run("probe", "--json")
    assert both.returncode == 1  # something is not ok
    results = both.json
    assert [r["name"] for r in results] == ["switch", "never"]
    assert set(results[0]) >= {"name", "type", "status", "message", "latency_ms"}
    assert results[0]["type"] == "freshness" and results[1]["status"] == "down"
    only = workspace.run("probe", "switch")
    assert only.returncode == 0 and only.stdout.startswith("ok") and "never" not in only.stdout
    unknown = workspace.run("probe", "nope")
    assert (
        unknown.returncode == 2 and "no probe named nope (known: switch, never)" in unknown.stderr
    )


def test_probe_command_only_looks(workspace, switch, hook):
    """`mechanic probe` stores results but alerts nothing and moves no state."""
    configure(workspace, switch_probe(switch), alerts={"webhook_url": hook.url})
    switch.unlink()
    assert workspace.run("probe").returncode == 1
    assert hook.requests == []
    rows = workspace.run("status", "--json").json["probes"]
    assert rows[0]["status"] == "unknown"


# --- remediation -------------------------------------------------------------------------


def test_exec_remediation_runs_a_command_without_a_shell(workspace, switch, tmp_path):
    touch = f"import pathlib; pathlib.Path({str(switch)!r}).write_text('fixed $HOME;')"
    on_down = '{ action = "exec", command = ' + json.dumps([sys.executable, "-c", touch]) + " }"
    config = configure(workspace, switch_probe(switch, on_down=on_down))
    switch.unlink()
    first = outcome(cycle(config), "switch")
    assert first.result.status == "down" and first.action.endswith(": done")
    assert switch.read_text() == "fixed $HOME;"  # no shell expanded anything
    assert outcome(cycle(config), "switch").event == "recovered"


def test_a_restart_storm_stops_at_its_limit_until_reset(workspace, switch, hook, tmp_path):
    tally = tmp_path / "tally"
    count = f"open({str(tally)!r}, 'a').write('x')"
    on_down = (
        '{ action = "exec", command = '
        + json.dumps([sys.executable, "-c", count])
        + ", max_actions = 3, within_cycles = 5 }"
    )
    config = configure(
        workspace, switch_probe(switch, on_down=on_down), alerts={"webhook_url": hook.url}
    )
    switch.unlink()
    seen = [outcome(cycle(config), "switch") for _ in range(7)]
    assert tally.read_text() == "xxx"  # three actions, then no more
    assert [o.action is not None for o in seen] == [True, True, True, False, False, False, False]
    assert seen[3].event == "given up"
    # Given up is alerted, then again every cycle it stays so (no remind_every_cycles).
    given_up = [("switch", "given up")] + [("switch", "still given up")] * 3
    assert alerts(hook) == [("switch", "down"), *given_up]
    assert "3 exec actions within 5 cycles did not help" in hook.requests[1].json()["message"]
    assert "mechanic probe --reset switch" in hook.requests[-1].json()["message"]
    rows = workspace.run("status", "--json").json["probes"]
    assert rows[0]["given_up"] is True
    assert "(given up)" in workspace.run("status").stdout
    # A person resets it: actions are allowed again, and the reminders stop.
    reset = workspace.run("probe", "--reset", "switch")
    assert reset.returncode == 0 and "switch: reset" in reset.stdout
    assert outcome(cycle(config), "switch").action is not None
    assert tally.read_text() == "xxxx"
    cycle(config)
    assert len(hook.requests) == 5  # nothing since the reset


def test_a_given_up_probe_is_reminded_until_it_re_arms(workspace, switch, hook):
    """With remind_every_cycles the reminders of a given-up probe follow it while it
    is down; once it is healthy again its recovery is the last alert, and it re-arms."""
    on_down = (
        '{ action = "exec", command = ["'
        + sys.executable
        + '", "-c", "pass"], max_actions = 1, within_cycles = 10, reset_after_cycles = 4 }'
    )
    config = configure(
        workspace,
        switch_probe(switch, on_down=on_down, remind_every_cycles=2),
        alerts={"webhook_url": hook.url},
    )
    switch.unlink()
    cycle(config)  # down, acts
    assert outcome(cycle(config), "switch").event == "given up"
    for _ in range(3):
        cycle(config)
    switch.write_text("on")
    assert outcome(cycle(config), "switch").event == "recovered"  # healthy 1
    cycle(config)  # healthy 2
    assert outcome(cycle(config), "switch").state.given_up is True  # healthy 3: not reminded
    assert outcome(cycle(config), "switch").state.given_up is False  # healthy 4: re-armed
    cycle(config)
    cycle(config)
    # cycles: 1 down, 2 given up, 4 reminder (down), 6 recovered; none while ok
    assert alerts(hook) == [
        ("switch", "down"),
        ("switch", "given up"),
        ("switch", "still given up"),
        ("switch", "recovered"),
    ]
    assert hook.requests[-1].json()["status"] == "ok"


def test_a_given_up_probe_re_arms_after_reset_after_cycles_healthy(workspace, switch, tmp_path):
    on_down = (
        '{ action = "exec", command = ["'
        + sys.executable
        + '", "-c", "pass"], max_actions = 1, within_cycles = 10, reset_after_cycles = 2 }'
    )
    config = configure(workspace, switch_probe(switch, on_down=on_down))
    switch.unlink()
    cycle(config)  # acts
    assert outcome(cycle(config), "switch").event == "given up"
    switch.write_text("on")
    assert outcome(cycle(config), "switch").state.given_up is True  # 1 healthy cycle
    assert outcome(cycle(config), "switch").state.given_up is False  # 2: re-armed
    switch.unlink()
    assert outcome(cycle(config), "switch").action is not None  # acts again at once


def test_a_failing_action_is_recorded_and_counted(workspace, switch):
    on_down = '{ action = "exec", command = ["/nonexistent/fixer"], max_actions = 1 }'
    config = configure(workspace, switch_probe(switch, on_down=on_down))
    switch.unlink()
    first = outcome(cycle(config), "switch")
    assert first.action == "/nonexistent/fixer: /nonexistent/fixer not found"
    assert outcome(cycle(config), "switch").event == "given up"


# --- alert channels --------------------------------------------------------------------


def test_a_dead_webhook_is_logged_never_fatal(workspace, switch):
    configure(
        workspace,
        switch_probe(switch),
        probe_toml("other", "tcp", port=free_port()),
        alerts={"webhook_url": f"http://127.0.0.1:{free_port()}/hook"},
    )
    switch.unlink()
    result = workspace.run("once", "--json")
    assert result.returncode == 0 and result.json["probes_error"] is None
    assert [p["event"] for p in result.json["probes"]] == ["down", "down"]
    events = [json.loads(line) for line in (workspace.state / "mechanic.log").open()]
    failed = [e for e in events if e["event"] == "alert.failed"]
    assert [(e["probe"], e["error"]) for e in failed] == [("switch", "connection failed")]
    assert any(e["event"] == "alert.skipped" and e["probe"] == "other" for e in events)


def test_a_webhook_that_never_answers_costs_one_timeout_per_cycle(workspace, switch):
    with silent_server() as port:
        result = None
        configure(
            workspace,
            switch_probe(switch),
            *(probe_toml(f"t{i}", "tcp", port=free_port()) for i in range(5)),
            alerts={"webhook_url": f"http://127.0.0.1:{port}/", "webhook_timeout_seconds": 1},
        )
        switch.unlink()
        started = time.monotonic()
        result = workspace.run("once", "--json")
        elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert len([p for p in result.json["probes"] if p["status"] == "down"]) == 6
    assert elapsed < 6, f"six alerts to a silent webhook took {elapsed:.1f}s"
    assert "alert.failed" in result.stderr and "alert.skipped" in result.stderr


def test_webhook_styles_for_ntfy_and_slack():
    alert = Alert("db", "postgres", "down", "down", "ok", "cannot connect")
    url, body = webhook_request(AlertSettings(webhook_url="https://ntfy.sh/my-topic",
                                              webhook_style="ntfy"), alert)  # fmt: skip
    assert url == "https://ntfy.sh/"
    assert body["topic"] == "my-topic" and body["title"] == "mechanic: db down"
    assert body["message"] == "ok → down: cannot connect" and body["priority"] == 4
    url, body = webhook_request(
        AlertSettings(webhook_url="https://hooks.slack.com/services/T/B/X", webhook_style="slack"),
        alert,
    )
    assert url.endswith("/T/B/X") and body == {"text": alert.text}
    _, body = webhook_request(AlertSettings(webhook_url="http://x/y"), alert)
    assert body["text"] == alert.text and body["probe"] == "db" and body["event"] == "down"


def test_ntfy_style_posts_to_the_servers_root_with_the_topic(workspace, switch, hook):
    config = configure(
        workspace,
        switch_probe(switch),
        alerts={"webhook_url": hook.url + "/mechanic-alerts", "webhook_style": "ntfy"},
    )
    switch.unlink()
    cycle(config)
    (request,) = hook.requests
    assert request.path == "/" and request.method == "POST"
    assert request.json()["topic"] == "mechanic-alerts"


# --- Layer 2 runs whatever Layer 1 says -------------------------------------------------


def test_layer_2_repairs_a_file_while_every_probe_fails(workspace, ollama_standin, tmp_path):
    broken = "def total(items):\n    return sum(items\n\nprint(total([1, 2]))\n"
    fixed = "def total(items):\n    return sum(items)\n\nprint(total([1, 2]))\n"
    path = workspace.file("total.py", broken)
    ollama_standin.reply(fixed)
    with silent_server() as port:
        workspace.write_config(
            llm={"backend": "ollama", "host": ollama_standin.url, "timeout_seconds": 20},
            raw="\n"
            + probe_toml("db", "postgres", dsn=f"postgresql://u:pw@127.0.0.1:{free_port()}/x")
            + probe_toml("hang", "http", url=f"http://127.0.0.1:{port}/", timeout_seconds=1)
            + probe_toml("out", "freshness", path=str(tmp_path / "none"), max_age_minutes=1)
            + probe_toml("pm2", "pm2", pm2="/nonexistent/pm2")
            + probe_toml("ollama", "ollama", model="absent:1b")
            + probe_toml("gh", "github", api_url=f"http://127.0.0.1:{free_port()}")
            + "[alerts]\nwebhook_url = " + json.dumps(f"http://127.0.0.1:{free_port()}/") + "\n",
        )  # fmt: skip
        result = workspace.run("once", "--json")
    assert result.returncode == 0, result.stderr
    statuses = {p["name"]: p["status"] for p in result.json["probes"]}
    assert statuses == {
        "db": "down", "hang": "down", "out": "down", "pm2": "error", "ollama": "degraded",
        "gh": "down",
    }  # fmt: skip
    assert result.attempts()["total.py"]["outcome"] == "applied"
    assert path.read_text() == fixed


def _notify_send(tmp_path, exit_code: int = 0):
    """A notify-send on PATH that records what it was asked to show."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shown = tmp_path / "shown.txt"
    script = bin_dir / "notify-send"
    script.write_text(
        f'#!/bin/sh\nprintf "%s|" "$@" >> {shown}\necho >> {shown}\nexit {exit_code}\n'
    )
    script.chmod(0o755)
    return bin_dir, shown


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS notifies through osascript")
def test_desktop_notifications_through_notify_send(workspace, switch, tmp_path):
    import os

    bin_dir, shown = _notify_send(tmp_path)
    configure(workspace, switch_probe(switch), alerts={"desktop": True})
    switch.unlink()
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    assert workspace.run("once", env=env).returncode == 0
    (line,) = shown.read_text().splitlines()
    assert line.startswith("--app-name=mechanic|mechanic: switch down|unknown → down: ")


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS notifies through osascript")
def test_a_failing_desktop_notifier_is_not_fatal(workspace, switch, tmp_path):
    import os

    bin_dir, _ = _notify_send(tmp_path, exit_code=1)
    configure(workspace, switch_probe(switch), alerts={"desktop": True})
    switch.unlink()
    result = workspace.run("once", env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert result.returncode == 0
    assert "alert.failed" in result.stderr and "desktop" in result.stderr


def test_a_dry_run_looks_but_records_alerts_and_does_nothing(workspace, switch, hook, tmp_path):
    marker = tmp_path / "acted"
    on_down = (
        '{ action = "exec", command = '
        + json.dumps([sys.executable, "-c", f"open({str(marker)!r}, 'w')"])
        + " }"
    )
    configure(workspace, switch_probe(switch, on_down=on_down), alerts={"webhook_url": hook.url})
    switch.unlink()
    result = workspace.run("once", "--dry-run", "--json")
    assert result.returncode == 0
    (probe,) = result.json["probes"]
    assert probe["status"] == "down" and probe["action"] is None
    assert not marker.exists() and hook.requests == []
    assert workspace.run("status", "--json").json["probes"][0]["status"] == "unknown"


def test_an_action_detail_never_shows_a_password(workspace, switch):
    command = [sys.executable, "-c", "import sys; sys.exit(3)", "https://bot:t0psecret99@example"]
    on_down = '{ action = "exec", command = ' + json.dumps(command) + " }"
    config = configure(workspace, switch_probe(switch, on_down=on_down))
    switch.unlink()
    action = outcome(cycle(config), "switch").action
    assert "exit 3" in action and "https://bot:***@example" in action
    assert "t0psecret99" not in action


def test_probe_results_older_than_30_days_are_pruned(workspace, switch):
    import sqlite3

    config = configure(workspace, switch_probe(switch))
    cycle(config)
    database = config.mechanic.state_dir / "mechanic.sqlite3"
    with sqlite3.connect(database) as db:
        db.execute("UPDATE probe_results SET at = at - 31 * 86400")
    cycle(config)
    with sqlite3.connect(database) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM probe_results").fetchone()
    assert count == 1


def test_a_targeted_check_runs_no_probe(workspace, switch, hook):
    from mechanic.cycle import run_cycle

    config = configure(workspace, switch_probe(switch), alerts={"webhook_url": hook.url})
    switch.unlink()
    path = workspace.file("a.py", "x = 1\n")
    with Store.open(config.mechanic.state_dir) as store:
        targeted = run_cycle(config, store, only=[path])
        assert targeted.probes == [] and store.probe_states() == {}
        full = run_cycle(config, store)
    assert outcome(full, "switch").event == "down"
    assert alerts(hook) == [("switch", "down")]


def test_a_recovery_is_logged_at_info_and_a_down_at_warning(workspace, switch, hook):
    """The morning after (issue 13): a recovery was logged at WARNING, so a log
    filtered to warnings showed good news as trouble."""
    configure(workspace, switch_probe(switch), alerts={"webhook_url": hook.url})
    assert workspace.run("once").returncode == 0  # first sight: ok
    switch.unlink()
    assert workspace.run("once").returncode == 0  # down
    switch.write_text("on")
    assert workspace.run("once").returncode == 0  # recovered
    assert alerts(hook) == [("switch", "down"), ("switch", "recovered")]
    lines = [json.loads(line) for line in (workspace.state / "mechanic.log").open()]

    def levels(change: str) -> set[str]:
        about = [e for e in lines if change in (e.get("change"), e.get("alert_event"))]
        assert {e["event"] for e in about} == {"probe.event", "alert"}
        return {e["level"] for e in about}

    assert levels("recovered") == {"info"}
    assert levels("down") == {"warning"}
