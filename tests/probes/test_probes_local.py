"""Probes of the machine itself: disk, memory, load, process, systemd, freshness,
queue (folder) and logerrors, against real files and real processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import psutil
import pytest

from probes.runner import run_probes
from tests.support.probe_kit import configure, cycle, outcome, probe_toml


def run_one(workspace, type_: str, **keys):
    config = configure(workspace, probe_toml("p", type_, **keys))
    (result,) = run_probes(config.probes)
    assert (result.name, result.type) == ("p", type_)
    return result


def test_disk_reports_free_space_and_a_threshold_breach(workspace, tmp_path):
    free = 100 - psutil.disk_usage(str(tmp_path)).percent
    good = run_one(workspace, "disk", path=str(tmp_path), min_free_percent=0.001)
    assert good.status == "ok" and good.metrics["free_percent"] == pytest.approx(free, abs=1)
    bad = run_one(workspace, "disk", path=str(tmp_path), min_free_gb=10**9)
    assert bad.status == "down" and "below 1000000000 GB" in bad.message


def test_disk_on_a_missing_path_is_down(workspace, tmp_path):
    result = run_one(workspace, "disk", path=str(tmp_path / "gone"), min_free_percent=1)
    assert result.status == "down" and "does not exist" in result.message


def test_memory_and_load_judge_their_thresholds(workspace):
    assert run_one(workspace, "memory", max_used_percent=100).status == "ok"
    squeezed = run_one(workspace, "memory", min_available_mb=10**9)
    assert squeezed.status == "degraded" and "MB available" in squeezed.message
    assert run_one(workspace, "load", max_per_cpu=1000).status == "ok"
    busy = run_one(workspace, "load", max_per_cpu=0.0000001, window_minutes=1)
    # an idle machine can show a load of exactly 0.00; anything above is "busy"
    assert busy.status == ("ok" if psutil.getloadavg()[0] == 0 else "degraded")


@pytest.fixture
def sleeper(tmp_path):
    """A real process with a recognisable command line, and its pidfile."""
    marker = f"mechanic-sleeper-{os.getpid()}-{time.monotonic_ns()}"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    pidfile = tmp_path / "sleeper.pid"
    pidfile.write_text(str(proc.pid))
    yield proc, marker, pidfile
    proc.kill()
    proc.wait()


def test_process_found_by_cmdline_and_pidfile_then_gone(workspace, sleeper):
    proc, marker, pidfile = sleeper
    by_cmdline = run_one(workspace, "process", cmdline=marker)
    assert by_cmdline.status == "ok" and str(proc.pid) in by_cmdline.message
    assert run_one(workspace, "process", pidfile=str(pidfile)).status == "ok"
    proc.kill()
    proc.wait()
    assert run_one(workspace, "process", cmdline=marker).status == "down"
    gone = run_one(workspace, "process", pidfile=str(pidfile))
    assert gone.status == "down" and "not running" in gone.message


def test_process_by_name_and_a_missing_pidfile(workspace, tmp_path, sleeper):
    proc, _, _ = sleeper
    by_name = run_one(workspace, "process", process_name=psutil.Process(proc.pid).name())
    assert by_name.status == "ok" and by_name.metrics["count"] >= 1
    nobody = run_one(workspace, "process", process_name="no-such-process-name")
    assert nobody.status == "down" and nobody.metrics["count"] == 0
    missing = run_one(workspace, "process", pidfile=str(tmp_path / "none.pid"))
    assert missing.status == "down" and "does not exist" in missing.message


def test_systemd_without_systemd_is_an_error_that_says_so(workspace):
    result = run_one(workspace, "systemd", unit="nothing-here.service")
    if shutil.which("systemctl") is None:
        assert result.status == "error" and "systemctl not found" in result.message
    else:  # a machine with systemctl: an unknown unit is down, or systemd is not running
        assert result.status in ("down", "error")
        assert "nothing-here" in result.message or "systemctl" in result.message


def test_freshness_follows_the_newest_matching_file(workspace, tmp_path):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    old = out / "sub" / "a.json"
    old.write_text("{}")
    os.utime(old, (time.time() - 3 * 3600, time.time() - 3 * 3600))
    stale = run_one(workspace, "freshness", path=str(out), glob="**/*.json", max_age_minutes=60)
    assert stale.status == "down" and "a.json is 3.0 h old (max 60 min)" in stale.message
    (out / "b.json").write_text("{}")
    (out / "c.txt").write_text("")  # does not match the glob
    fresh = run_one(workspace, "freshness", path=str(out), glob="**/*.json", max_age_minutes=60)
    assert fresh.status == "ok" and "b.json" in fresh.message
    empty = run_one(workspace, "freshness", path=str(out), glob="*.csv", max_age_minutes=1)
    assert empty.status == "down" and "no file matches" in empty.message
    absent = run_one(workspace, "freshness", path=str(tmp_path / "nope"), max_age_minutes=1)
    assert absent.status == "down" and "does not exist" in absent.message


def test_a_folder_queue_that_stops_draining_degrades(workspace, tmp_path):
    queue = tmp_path / "queue"
    queue.mkdir()
    config = configure(
        workspace, probe_toml("q", "queue", path=str(queue), glob="*.job", grow_cycles=2)
    )
    statuses = []
    for count in (1, 2, 3, 1, 2):  # grows twice, drains, grows again
        for old in queue.iterdir():
            old.unlink()
        for n in range(count):
            (queue / f"{n}.job").write_text("")
        statuses.append(outcome(cycle(config), "q").result)
    assert [r.status for r in statuses] == ["ok", "ok", "degraded", "ok", "ok"]
    assert "grown 2 cycles in a row" in statuses[2].message
    assert statuses[2].metrics["count"] == 3


def test_logerrors_counts_new_matching_lines_only(workspace, tmp_path):
    logfile = tmp_path / "engine.log"
    logfile.write_text("ERROR old trouble\n" * 50)
    config = configure(
        workspace,
        probe_toml("log", "logerrors", path=str(logfile), pattern="ERROR", max_per_minute=3),
    )
    first = outcome(cycle(config), "log").result
    assert first.status == "ok" and "from its current end" in first.message
    with open(logfile, "a") as handle:
        handle.write("INFO fine\nERROR a\nERROR b\n")
    assert outcome(cycle(config), "log").result.status == "ok"  # 2 lines: within 3/min
    with open(logfile, "a") as handle:
        handle.write("ERROR x password=hunter22\n" * 5)
    noisy = outcome(cycle(config), "log").result
    assert noisy.status == "degraded" and "5 matching lines" in noisy.message
    assert "hunter22" not in noisy.message and "password=***" in noisy.message
    logfile.write_text("ERROR after rotation\n")  # truncated: read from the start
    assert outcome(cycle(config), "log").result.metrics["matches"] == 1
    logfile.unlink()
    assert outcome(cycle(config), "log").result.status == "down"


def test_logerrors_reads_a_log_rewritten_in_place_from_its_start(workspace, tmp_path):
    """A log truncated and rewritten past its old length (copytruncate, then a busy
    app) keeps its inode and grows: only its first bytes tell it is another log."""
    logfile = tmp_path / "engine.log"
    logfile.write_text("INFO starting\n" * 50)
    config = configure(
        workspace, probe_toml("log", "logerrors", path=str(logfile), pattern="ERROR")
    )
    inode = logfile.stat().st_ino
    assert outcome(cycle(config), "log").result.status == "ok"
    logfile.write_text("ERROR new 1\nERROR new 2\n" + "INFO padding\n" * 80)
    assert logfile.stat().st_ino == inode
    result = outcome(cycle(config), "log").result
    assert result.metrics["matches"] == 2
    assert result.status == "degraded" and "ERROR new 2" in result.message


def test_logerrors_reads_a_log_replaced_by_a_bigger_file_from_its_start(workspace, tmp_path):
    logfile = tmp_path / "engine.log"
    logfile.write_text("INFO starting\n" * 50)
    config = configure(
        workspace, probe_toml("log", "logerrors", path=str(logfile), pattern="ERROR")
    )
    assert outcome(cycle(config), "log").result.status == "ok"
    fresh = tmp_path / "engine.log.new"
    fresh.write_text("ERROR first\n" + "INFO padding\n" * 80)
    os.replace(fresh, logfile)
    assert outcome(cycle(config), "log").result.metrics["matches"] == 1


def test_a_logerrors_alert_quotes_the_exception_line_not_traceback(workspace, tmp_path):
    """The morning after (issue 13): the alert said `Traceback (most recent call
    last):`. A crash's own line says what broke: `ZeroDivisionError: division by zero`."""
    from tests.support.services import HttpServer

    logfile = tmp_path / "cron.log"
    logfile.write_text("INFO nightly job starting\n")

    def crash(code: str) -> None:
        with open(logfile, "a") as log:  # a cron job's stderr, appended to its log
            subprocess.run([sys.executable, "-c", code], stderr=log, check=False)

    with HttpServer(lambda req: (200, "ok")) as hook:
        config = configure(
            workspace,
            probe_toml("cron", "logerrors", path=str(logfile)),
            alerts={"webhook_url": hook.url},
        )
        cycle(config)  # first look: where the log ends
        crash("def ratio(a, b):\n    return a / b\nratio(1, 0)")
        first = outcome(cycle(config), "cron").result
        cycle(config)  # nothing new: recovered
        crash("len(5)")
        second = outcome(cycle(config), "cron").result
        sent = [r.json() for r in hook.requests]
    assert first.status == "degraded"
    assert first.message.endswith("last: ZeroDivisionError: division by zero")
    assert second.message.endswith("last: TypeError: object of type 'int' has no len()")
    assert [a["event"] for a in sent] == ["degraded", "recovered", "degraded"]
    assert "ZeroDivisionError: division by zero" in sent[0]["text"]
    assert "TypeError: object of type 'int' has no len()" in sent[2]["text"]
    assert not any("most recent call last" in a["text"] for a in sent)
