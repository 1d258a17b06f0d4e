"""The postgres and queue probes against a real PostgreSQL server (tests/support/services.py)."""

from __future__ import annotations

import pytest

from probes.runner import run_probes
from tests.support.probe_kit import configure, cycle, outcome, probe_toml, read_everything
from tests.support.services import PG_PASSWORD, HttpServer, free_port


@pytest.fixture(scope="module")
def tools_db(postgres):
    postgres.execute("CREATE TABLE IF NOT EXISTS tools_db (id int)")
    postgres.execute("TRUNCATE tools_db")
    postgres.execute("INSERT INTO tools_db SELECT generate_series(1, 42)")
    postgres.execute("CREATE TABLE IF NOT EXISTS jobs (id serial, done bool default false)")
    return postgres


def one(workspace, **keys):
    config = configure(workspace, probe_toml("db", "postgres", **keys))
    (result,) = run_probes(config.probes)
    return result


def test_connects_and_checks_the_query_value(workspace, tools_db):
    plain = one(workspace, dsn=tools_db.dsn())
    assert plain.status == "ok" and plain.message == "connected; query returned 1"
    counted = one(workspace, dsn=tools_db.dsn(), query="SELECT COUNT(*) FROM tools_db", min=1)
    assert counted.status == "ok" and counted.metrics["value"] == 42
    too_few = one(workspace, dsn=tools_db.dsn(), query="SELECT COUNT(*) FROM tools_db", min=100)
    assert too_few.status == "degraded" and "42, below min 100" in too_few.message
    too_many = one(workspace, dsn=tools_db.dsn(), query="SELECT COUNT(*) FROM tools_db", max=10)
    assert too_many.status == "degraded" and "above max 10" in too_many.message


def test_a_failing_query_is_down(workspace, tools_db):
    result = one(workspace, dsn=tools_db.dsn(), query="SELECT COUNT(*) FROM no_such_table")
    assert result.status == "down" and "no_such_table" in result.message


def test_a_refused_port_is_down(workspace):
    result = one(workspace, dsn=f"postgresql://postgres:x@127.0.0.1:{free_port()}/postgres")
    assert result.status == "down" and "refused" in result.message.lower()


def test_a_wrong_password_is_down_and_no_password_leaks_anywhere(workspace, tools_db):
    wrong = "Wr0ng-pa55word-77"
    with HttpServer(lambda req: (200, "ok")) as hook:
        _leak_check(workspace, tools_db, wrong, hook)


def _leak_check(workspace, tools_db, wrong, hook):
    configure(
        workspace,
        probe_toml("db", "postgres", dsn=tools_db.dsn(password=wrong)),
        probe_toml("good", "postgres", dsn=tools_db.dsn(), query="SELECT 'x' || current_user"),
        probe_toml(
            "q",
            "queue",
            dsn=f"host=127.0.0.1 port={tools_db.port} user=postgres "
            f"password={wrong} dbname=postgres",
            query="SELECT COUNT(*) FROM jobs",
        ),
        alerts={"webhook_url": hook.url + "/alerts"},
    )
    once = workspace.run("once", "--json")
    assert once.returncode == 0, once.stderr
    probes = {p["name"]: p for p in once.json["probes"]}
    assert probes["db"]["status"] == "down"
    assert "password authentication failed" in probes["db"]["message"]
    assert probes["q"]["status"] == "down"
    assert probes["good"]["status"] == "ok"
    outputs = [
        once.stdout,
        once.stderr,
        workspace.run("probe", "--json").stdout,
        workspace.run("probe").stdout,
        workspace.run("status").stdout,
        workspace.run("status", "--json").stdout,
        workspace.run("log", "-n", "500").stdout,
        read_everything(workspace),
        *(request.body.decode() for request in hook.requests),
    ]
    alerted = {request.json()["probe"] for request in hook.requests}
    assert alerted == {"db", "q"}
    for text in outputs:
        assert wrong not in text
        assert PG_PASSWORD not in text


def test_a_database_queue_that_stops_draining(workspace, tools_db):
    tools_db.execute("TRUNCATE jobs")
    config = configure(
        workspace,
        probe_toml(
            "jobs",
            "queue",
            dsn=tools_db.dsn(),
            grow_cycles=2,
            query="SELECT COUNT(*) FROM jobs WHERE NOT done",
        ),
    )
    seen = []
    for added in (1, 1, 1):
        tools_db.execute(f"INSERT INTO jobs (done) SELECT false FROM generate_series(1, {added})")
        seen.append(outcome(cycle(config), "jobs").result)
    assert [r.status for r in seen] == ["ok", "ok", "degraded"]
    assert seen[-1].metrics["count"] == 3
    tools_db.execute("UPDATE jobs SET done = true")
    drained = outcome(cycle(config), "jobs").result
    assert drained.status == "ok" and drained.message == "0 queued (was 3)"
