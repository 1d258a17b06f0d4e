"""A person's word sticks, and a fix helps the pipeline recover.

- A fix a person reverted (`mechanic revert`) or rejected (`mechanic reject`) is
  never re-applied by itself: not by the memory rung, not as an example in a
  prompt, not by the zero-token rung; that content waits for a change, or for
  `mechanic retry FILE`.
- Cooldowns hold the content and error that were tried, never a fixed file: a
  fix at 2 a.m. does not block the 3 a.m. breakage.
- Layer 1's `on_down` runs after Layer 2's repairs, a probe that was down is
  probed again first, and `[[watch]] on_fix` runs once after a fix.

Real CLI processes, the real daemon, the loopback Ollama stand-in.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.support.daemon_process import DaemonProcess
from tests.support.ollama_standin import InferenceRequest
from tests.support.workspace import once

BROKEN_PY = "def total(items):\n    return sum(items\n\n\nprint(total([1, 2]))\n"
FIXED_PY = BROKEN_PY.replace("sum(items\n", "sum(items)\n")
OTHER_BROKEN = "def mean(items):\n    return sum(items) / len(items\n\n\nprint(mean([1, 2]))\n"
OTHER_FIXED = OTHER_BROKEN.replace("len(items\n", "len(items)\n")
# One the zero-token rung fixes (a missing colon) and, broken again later, another.
COLON_BROKEN = "def f(x)\n    return x + 1\n\n\nprint(f(1))\n"
COLON_FIXED = "def f(x):\n    return x + 1\n\n\nprint(f(1))\n"
LATER_BROKEN = "def f(x):\n    if x > 1\n        return x\n    return 0\n\n\nprint(f(2))\n"


def model_user(workspace, standin, **mechanic):
    """A workspace whose model is the stand-in, answering each file's own fix."""
    workspace.write_config(
        mechanic=mechanic, llm={"backend": "ollama", "host": standin.url, "timeout_seconds": 20}
    )
    fixes = {"calc.py": FIXED_PY, "stats.py": OTHER_FIXED}
    prompts: list[str] = []

    def answer(request: InferenceRequest) -> str:
        prompts.append(request.prompt)
        return next((fixed for name, fixed in fixes.items() if name in request.prompt), "")

    standin.respond(answer)
    return prompts


def applied_id(result) -> int:
    attempt = result.attempts()["calc.py"]
    assert attempt["outcome"] == "applied", attempt
    return attempt["id"]


def held(result, name: str) -> str:
    return next(h["reason"] for h in result.json["held"] if Path(h["file"]).name == name)


# --- a reverted fix stays reverted ---------------------------------------------


def test_a_reverted_model_fix_is_not_reapplied_from_memory(workspace, ollama_standin):
    # No cooldown: on main the memory rung put the reverted patch straight back.
    prompts = model_user(workspace, ollama_standin, file_cooldown_hours=0)
    path = workspace.file("calc.py", BROKEN_PY)
    attempt = applied_id(once(workspace))
    assert path.read_text() == FIXED_PY
    assert workspace.run("revert", str(attempt)).returncode == 0
    assert path.read_text() == BROKEN_PY

    again = once(workspace)
    assert again.json["attempts"] == []
    assert f"attempt #{attempt} on this content was reverted by a person" in held(again, "calc.py")
    assert f"mechanic retry {path.resolve()}" in held(again, "calc.py")
    assert path.read_text() == BROKEN_PY
    assert len(prompts) == 1

    status = workspace.run("status", "--json").json
    assert status["cooldowns"] == []  # held by the person's word, not by a timer


def test_retry_asks_again_and_never_applies_the_reverted_fix(workspace, ollama_standin):
    prompts = model_user(workspace, ollama_standin, file_cooldown_hours=0)
    path = workspace.file("calc.py", BROKEN_PY)
    attempt = applied_id(once(workspace))
    workspace.run("revert", str(attempt))

    retried = workspace.run("retry", str(path))
    assert retried.returncode == 0, retried.stderr
    assert "attempted again in the next cycle" in retried.stdout
    after = once(workspace)
    # The memory rung skips the refused patch; the model, asked again, answers the
    # same fix, and that exact fix is refused on this content.
    rungs = [(a["rung"], a["outcome"]) for a in after.json["attempts"]]
    assert ("memory", "applied") not in rungs and len(prompts) == 2
    assert all(a["outcome"] != "applied" for a in after.json["attempts"])
    assert "this is the fix a person reverted" in after.json["attempts"][0]["reason"]
    assert path.read_text() == BROKEN_PY


def test_a_reverted_fix_is_no_example_in_another_prompt(workspace, ollama_standin):
    prompts = model_user(workspace, ollama_standin, file_cooldown_hours=0)
    path = workspace.file("calc.py", BROKEN_PY)
    attempt = applied_id(once(workspace))
    assert "EARLIER FIXES" not in prompts[0]
    workspace.run("revert", str(attempt))
    workspace.file("stats.py", OTHER_BROKEN)  # the same project, the same kind of fault
    once(workspace)
    assert len(prompts) == 2 and "stats.py" in prompts[1]
    assert "EARLIER FIXES" not in prompts[1]
    assert path.read_text() == BROKEN_PY


def test_a_reverted_zero_token_fix_is_not_searched_for_again(workspace):
    path = workspace.file("f.py", COLON_BROKEN)
    first = once(workspace)
    (attempt,) = first.json["attempts"]
    assert attempt["rung"] == "deterministic" and path.read_text() == COLON_FIXED
    assert workspace.run("revert", str(attempt["id"])).returncode == 0

    again = once(workspace)
    assert again.json["attempts"] == [] and "reverted by a person" in held(again, "f.py")
    assert workspace.run("retry", str(path)).returncode == 0
    retried = once(workspace)  # backend none: no model rung, and no zero-token search
    assert retried.json["attempts"] == []
    assert path.read_text() == COLON_BROKEN

    path.write_text(COLON_BROKEN.replace("x + 1", "x + 2"))  # a person's edit: new content
    edited = once(workspace)
    assert [a["outcome"] for a in edited.json["attempts"]] == ["applied"]
    assert path.read_text() == COLON_FIXED.replace("x + 1", "x + 2")


def test_retry_of_a_file_outside_every_root_is_refused(workspace, tmp_path):
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n")
    result = workspace.run("retry", str(outside))
    assert result.returncode == 1 and "outside every watch root" in result.stderr
    inside = workspace.file("ok.py", "x = 1\n")
    nothing = workspace.run("retry", str(inside))
    assert nothing.returncode == 0 and "nothing held" in nothing.stdout


def test_a_rejected_patch_is_not_proposed_again(workspace, ollama_standin):
    prompts = model_user(workspace, ollama_standin, file_cooldown_hours=0, apply="review")
    path = workspace.file("calc.py", BROKEN_PY)
    assert once(workspace).attempts()["calc.py"]["outcome"] == "pending"
    rejected = workspace.run("reject", "1")
    assert rejected.returncode == 0, rejected.stderr
    assert "mechanic retry" in rejected.stdout

    again = once(workspace)
    assert again.json["attempts"] == []
    assert "was rejected by a person" in held(again, "calc.py")
    assert len(prompts) == 1 and path.read_text() == BROKEN_PY
    assert workspace.run("pending").stdout.strip() == "no fixes are waiting for review"


def test_a_reverted_fix_stays_reverted_while_the_daemon_runs(workspace, ollama_standin):
    workspace.write_config(
        mechanic={"interval_minutes": 60, "quiet_seconds": 1, "file_cooldown_hours": 0},
        llm={"backend": "ollama", "host": ollama_standin.url, "timeout_seconds": 20},
    )
    ollama_standin.reply(FIXED_PY)
    path = workspace.file("calc.py", BROKEN_PY)
    daemon = DaemonProcess(workspace)
    try:
        daemon.wait_for(lambda e: e.get("event") == "repair.applied")
        assert path.read_text() == FIXED_PY
        mark = len(daemon.events())
        reverted = workspace.run("revert", "1")
        assert reverted.returncode == 0, reverted.stderr
        # The revert is a change the daemon sees: a targeted check of calc.py follows.
        held_event = daemon.wait_for(
            lambda e: e.get("event") == "repair.held" and "reverted by a person" in e["reason"],
            after=mark,
        )
        assert held_event["file"] == str(path.resolve())
        later = daemon.events()[mark:]
        assert not [e for e in later if e.get("event") == "repair.applied"]
        assert path.read_text() == BROKEN_PY
        assert ollama_standin.inference_count == 1
    finally:
        daemon.close()


# --- cooldowns follow content and error, never a fix ----------------------------


def test_a_fix_at_2am_does_not_block_the_3am_breakage(workspace):
    path = workspace.file("f.py", COLON_BROKEN)
    assert [a["outcome"] for a in once(workspace).json["attempts"]] == ["applied"]
    assert workspace.run("status", "--json").json["cooldowns"] == []

    path.write_text(LATER_BROKEN)  # an hour later, someone breaks it another way
    later = once(workspace)
    assert [a["outcome"] for a in later.json["attempts"]] == ["applied"], later.json["held"]
    assert path.read_text() == LATER_BROKEN.replace("if x > 1\n", "if x > 1:\n")


def test_a_failed_attempt_cools_down_only_that_content(workspace, ollama_standin):
    workspace.write_config(
        llm={"backend": "ollama", "host": ollama_standin.url, "timeout_seconds": 20}
    )
    ollama_standin.reply("I cannot help with that.")
    path = workspace.file("calc.py", BROKEN_PY)
    first = once(workspace)
    assert [a["outcome"] for a in first.json["attempts"]] == ["rejected"]
    again = once(workspace)
    assert again.json["attempts"] == [] and "in cooldown until" in held(again, "calc.py")
    assert ollama_standin.inference_count == 1

    path.write_text(OTHER_BROKEN.replace("mean", "total"))  # new content, new error
    changed = once(workspace)
    assert [a["outcome"] for a in changed.json["attempts"]] == ["rejected"]
    assert ollama_standin.inference_count == 2


# --- Layer 1 acts after Layer 2 ---------------------------------------------------

RECORDER = """\
import pathlib, sys
# Runs as an on_down or on_fix action: notes what the watched file held when it ran.
watched, note = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
with note.open("a") as handle:
    handle.write(sys.argv[3] + " " + watched.read_text().replace(chr(10), "|") + chr(10))
"""


def actions_config(workspace, *, on_fix: bool, touch: Path, note: Path, watched: Path) -> None:
    """A freshness probe on `touch` (down: the file does not exist) whose on_down
    notes what `watched` held; with `on_fix`, the root's on_fix notes it too and
    brings the probe's output back (creates `touch`)."""
    script = workspace.root / "recorder.py"
    script.write_text(RECORDER)
    record = [sys.executable, str(script), str(watched), str(note)]
    on_down = json.dumps([*record, "on_down"])
    workspace.write_config(
        raw="\n".join(
            [
                "",
                "[[probe]]",
                'name = "output"',
                'type = "freshness"',
                f"path = {json.dumps(str(touch.parent))}",
                f"glob = {json.dumps(touch.name)}",
                "max_age_minutes = 5",
                f'on_down = {{ action = "exec", command = {on_down} }}',
                "",
            ]
        )
    )
    if on_fix:
        bring_back = json.dumps(
            [
                sys.executable,
                "-c",
                "import pathlib, subprocess, sys; pathlib.Path(sys.argv[1]).touch();"
                " subprocess.run(sys.argv[2:], check=True)",
                str(touch),
                *record,
                "on_fix",
            ]
        )
        text = workspace.config_path.read_text().replace(
            'path = "src"\n',
            f'path = "src"\non_fix = {{ action = "exec", command = {bring_back} }}\n',
        )
        workspace.config_path.write_text(text)


def test_on_down_runs_after_the_repair_not_before(workspace):
    path = workspace.file("f.py", COLON_BROKEN)
    note = workspace.root / "actions.log"
    output = workspace.root / "out" / "beat"
    output.parent.mkdir()
    actions_config(workspace, on_fix=False, touch=output, note=note, watched=path)
    result = once(workspace)
    assert [a["outcome"] for a in result.json["attempts"]] == ["applied"]
    # The restart came after the fix: the service starts on the fixed file.
    assert note.read_text() == "on_down " + COLON_FIXED.replace("\n", "|") + "\n"
    (probe,) = result.json["probes"]
    assert probe["status"] == "down" and probe["action"].endswith(": done")
    assert probe["rechecked"]["status"] == "down"  # probed again after the repair


def test_on_fix_runs_once_and_a_probe_it_brought_back_is_not_restarted(workspace):
    path = workspace.file("f.py", COLON_BROKEN)
    workspace.file("g.py", COLON_BROKEN.replace("f(", "g("))
    note = workspace.root / "actions.log"
    output = workspace.root / "out" / "beat"
    output.parent.mkdir()
    actions_config(workspace, on_fix=True, touch=output, note=note, watched=path)
    result = once(workspace)
    assert [a["outcome"] for a in result.json["attempts"]] == ["applied", "applied"]
    (action,) = result.json["on_fix"]  # two fixes under one root: one on_fix
    assert action["ok"] is True and action["action"] == "exec"
    assert sorted(Path(f).name for f in action["files"]) == ["f.py", "g.py"]
    (probe,) = result.json["probes"]
    assert probe["status"] == "down" and probe["rechecked"]["status"] == "ok"
    assert probe["action"] is None  # brought back by on_fix: no on_down restart
    assert note.read_text() == "on_fix " + COLON_FIXED.replace("\n", "|") + "\n"

    status = workspace.run("status", "--json").json
    assert [(a["action"], a["ok"]) for a in status["on_fix"]] == [("exec", True)]
    assert "on_fix actions" in workspace.run("status").stdout
    events = [
        json.loads(line) for line in (workspace.state / "mechanic.log").read_text().splitlines()
    ]
    assert [e["detail"] for e in events if e.get("event") == "fix.action"] == [action["detail"]]

    nothing = once(workspace)  # nothing fixed: no on_fix
    assert nothing.json["on_fix"] == [] and note.read_text().count("on_fix") == 1


def test_on_fix_takes_the_same_actions_as_on_down_and_names_a_bad_key(workspace):
    workspace.write_config(watch={"path": "src"})
    text = workspace.config_path.read_text()
    workspace.config_path.write_text(
        text.replace('path = "src"\n', 'path = "src"\non_fix = { action = "restart_pm2" }\n')
    )
    bad = workspace.run("once")
    assert bad.returncode == 2
    assert "watch[0].on_fix.app: is required by action 'restart_pm2'" in bad.stderr
    workspace.config_path.write_text(
        text.replace(
            'path = "src"\n',
            'path = "src"\non_fix = { action = "restart_pm2", app = "w", max_actions = 2 }\n',
        )
    )
    storm = workspace.run("once")
    assert storm.returncode == 2 and "watch[0].on_fix.max_actions" in storm.stderr


def test_an_accepted_patch_runs_its_roots_on_fix(workspace, ollama_standin):
    model_user(workspace, ollama_standin, file_cooldown_hours=0, apply="review")
    note = workspace.root / "on_fix.log"
    command = json.dumps(
        [sys.executable, "-c", "import sys; open(sys.argv[1], 'a').write('ran\\n')", str(note)]
    )
    text = workspace.config_path.read_text().replace(
        'path = "src"\n', f'path = "src"\non_fix = {{ action = "exec", command = {command} }}\n'
    )
    workspace.config_path.write_text(text)
    workspace.file("calc.py", BROKEN_PY)
    pending = once(workspace)
    assert pending.json["on_fix"] == [] and not note.exists()  # nothing applied yet
    accepted = workspace.run("accept", "1")
    assert accepted.returncode == 0, accepted.stderr
    assert "on_fix" in accepted.stdout and note.read_text() == "ran\n"
