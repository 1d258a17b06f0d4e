"""The repair ladder end to end: `mechanic once` as a subprocess against the
loopback Ollama stand-in. Each test is what a user sees: which rung fixed what,
what the model was sent (or never asked), what their file holds afterwards."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from mechanic.alerts import Alert
from tests.support.model_user import UserConfig
from tests.support.ollama_standin import Reply
from tests.support.services import HttpServer, free_port
from tests.support.workspace import once


def big_py(n: int = 14) -> str:
    """A Python file of about 4n lines: imports, a constant, n small functions."""
    parts = ["import os", "from sys import argv", "", "LIMIT = 10", ""]
    for i in range(n):
        parts.append(f"def f{i}(x):\n    y = x + {i}\n    return y * 2\n")
    return "\n".join(parts) + "\nprint(f1(LIMIT))\n"


GOOD = big_py()
BROKEN = GOOD.replace("    return y * 2\n", "    return (y * 2\n", 6).replace(
    "    return (y * 2\n", "    return y * 2\n", 5
)  # only f5 is broken
BROKEN_F5 = "def f5(x):\n    y = x + 5\n    return (y * 2"
FIXED_F5 = "def f5(x):\n    y = x + 5\n    return (y * 2)"
FIXED = BROKEN.replace("    return (y * 2\n", "    return (y * 2)\n")
SMALL_BROKEN = "def total(items):\n    return sum(items\n\nprint(total([1, 2]))\n"
SMALL_FIXED = "def total(items):\n    return sum(items)\n\nprint(total([1, 2]))\n"


@pytest.fixture
def user_config():
    # The model rungs are what these tests are about: the zero-token rung would
    # fix most of these faults first (one test below shows it does).
    return UserConfig(
        mechanic={"file_cooldown_hours": 0}, repair={"mode": "auto", "deterministic": False}
    )


def webhook(url: str) -> str:
    return f'[alerts]\nwebhook_url = "{url}"\n'


def rungs(result) -> list[tuple[str, str]]:
    return [(a["rung"], a["outcome"]) for a in result.json["attempts"]]


def test_fault_injection_is_what_the_tests_think_it_is():
    assert BROKEN.count("return (y * 2\n") == 1 and BROKEN_F5 in BROKEN
    assert FIXED.replace("return (y * 2)", "return y * 2") == GOOD
    compile(FIXED, "x", "exec")


# --- each rung alone, and in sequence -----------------------------------------


def test_the_block_rung_sends_only_the_unit_and_splices_the_answer(user):
    path = user.file("calc.py", BROKEN)
    user.ollama.reply(FIXED_F5)
    result = once(user)
    assert rungs(result) == [("block", "applied")]
    assert path.read_text() == FIXED
    [request] = user.ollama.inference_requests
    prompt = request.json["prompt"]
    assert BROKEN_F5 in prompt
    assert "def f4(x)" not in prompt and "y = x + 9" not in prompt  # other units stay home
    assert "import os" in prompt and "f9" in prompt  # imports and names, for reference
    assert "return (y * 2" in prompt  # the error's line is named


def test_the_whole_rung_alone_when_mode_is_whole(user):
    user.configure(repair={"mode": "whole"})
    path = user.file("calc.py", BROKEN)
    user.ollama.reply(FIXED)
    result = once(user)
    assert rungs(result) == [("whole", "applied")]
    assert path.read_text() == FIXED
    [request] = user.ollama.inference_requests
    assert BROKEN.strip() in request.json["prompt"]


def test_mode_block_uses_the_block_rung_even_for_a_short_file(user):
    user.configure(repair={"mode": "block"})
    path = user.file("calc.py", SMALL_BROKEN)
    user.ollama.reply("def total(items):\n    return sum(items)\n")
    result = once(user)
    assert rungs(result) == [("block", "applied")]
    assert path.read_text() == SMALL_FIXED
    assert "print(total" not in user.ollama.inference_requests[0].json["prompt"]


def test_the_deterministic_rung_comes_first_and_asks_nothing(user):
    user.write_config(
        mechanic={"file_cooldown_hours": 0},
        llm={"backend": "ollama", "host": user.ollama.url},
        repair={"mode": "auto", "deterministic": True},
    )
    path = user.file("calc.py", BROKEN)
    result = once(user)
    assert rungs(result) == [("deterministic", "applied")]
    assert result.json["attempts"][0]["tokens"]["prompt"] == 0
    assert user.ollama.inference_requests == []
    compile(path.read_text(), "calc.py", "exec")


def test_auto_sends_a_short_file_whole(user):
    user.file("calc.py", SMALL_BROKEN)
    user.ollama.reply(SMALL_FIXED)
    assert rungs(once(user)) == [("whole", "applied")]


def test_mode_block_never_climbs_to_the_whole_file(user):
    user.configure(repair={"mode": "block"})
    path = user.file("calc.py", BROKEN)
    user.ollama.reply(BROKEN_F5)  # unchanged: refused
    result = once(user)
    assert rungs(result) == [("block", "rejected")]
    assert len(user.ollama.inference_requests) == 1
    assert path.read_text() == BROKEN


def test_auto_climbs_from_a_failed_block_to_the_whole_file(user):
    path = user.file("calc.py", BROKEN)
    user.ollama.replies(["def f5(x):\n    y = x + 5\n    return (y * 2]", FIXED])
    result = once(user)
    assert rungs(result) == [("block", "reverted"), ("whole", "applied")]
    assert "never written" in result.json["attempts"][0]["reason"]
    assert path.read_text() == FIXED
    block_prompt, whole_prompt = (r.json["prompt"] for r in user.ollama.inference_requests)
    assert len(block_prompt) * 2 < len(whole_prompt)


def test_a_file_too_long_for_the_whole_rung_is_repaired_by_its_block(user):
    user.write_config(
        mechanic={"file_cooldown_hours": 0},
        llm={"backend": "ollama", "host": user.ollama.url, "num_ctx": 1024},
    )
    body = "".join(f"value_{n} = {n}\n" for n in range(400))
    path = user.file("long.py", body + "broken = (\n")
    user.ollama.respond(lambda req: req.prompt.split("BLOCK:\n")[1].replace("= (", "= ()"))
    result = once(user)
    assert rungs(result) == [("block", "applied")]
    assert path.read_text() == body + "broken = ()\n"
    assert "value_10 = 10" not in user.ollama.inference_requests[0].json["prompt"]


# --- splicing: file start and end, nesting, CRLF and tabs ---------------------


def test_a_block_at_the_very_start_of_the_file(user):
    user.configure(repair={"mode": "block"})
    text = "def first(:\n    return 1\n\n" + GOOD
    path = user.file("start.py", text)
    user.ollama.reply("def first():\n    return 1")
    assert rungs(once(user)) == [("block", "applied")]
    assert path.read_text() == text.replace("def first(:", "def first():")


def test_a_block_at_the_very_end_without_a_final_newline(user):
    user.configure(repair={"mode": "block"})
    text = GOOD + "\ndef last(x):\n    return [x"
    path = user.file("end.py", text)
    user.ollama.reply("def last(x):\n    return [x]")
    assert rungs(once(user)) == [("block", "applied")]
    assert path.read_bytes() == (text + "]").encode()


def test_a_nested_method_block_keeps_crlf_and_tabs(user):
    user.configure(repair={"mode": "block"})
    text = GOOD.replace("\n", "\r\n") + (
        "class Shape:\r\n\tsides = 4\r\n\r\n\tdef area(self):\r\n"
        "\t\tdef inner():\r\n\t\t\treturn (self.sides\r\n\t\treturn inner()\r\n"
    )
    path = user.file("shape.py", text.encode())
    # The model answers flush left and with "\n": the block is re-indented, the file keeps CRLF.
    user.ollama.reply("def inner():\n\treturn (self.sides)")
    assert rungs(once(user)) == [("block", "applied")]
    assert path.read_bytes() == text.replace("(self.sides\r\n", "(self.sides)\r\n").encode()
    prompt = user.ollama.inference_requests[0].json["prompt"]
    assert "\tdef inner():" in prompt and "def area" not in prompt


def js_step(n: int) -> str:
    """A JavaScript function whose strings, comment and regex hold braces."""
    return (
        f"function step{n}(input) {{\n  const out = `${{input}}:{n}`; // {{ not a brace\n"
        f"  return out.replace(/[{{}}]/g, '');\n}}"
    )


JS_BIG = "".join(js_step(n) + "\n\n" for n in range(12))


def test_a_javascript_block_repair(user):
    path = user.file(
        "steps.js",
        JS_BIG.replace(
            "  return out.replace(/[{}]/g, '');", "  return out.replace(/[{}]/g, ''));", 1
        ),
    )
    user.ollama.reply(js_step(0))
    result = once(user)
    assert rungs(result) == [("block", "applied")]
    assert path.read_text() == JS_BIG
    assert "step1(" not in user.ollama.inference_requests[0].json["prompt"]


def test_an_answer_straying_outside_its_block_is_refused_and_nothing_written(user):
    user.configure(repair={"mode": "block"})
    path = user.file("calc.py", BROKEN)
    user.ollama.reply(FIXED_F5 + "\n\ndef f6(x):\n    y = x + 6\n    return y * 2\n")
    result = once(user)
    assert rungs(result) == [("block", "rejected")]
    assert "outside its block" in result.json["attempts"][0]["reason"]
    assert path.read_text() == BROKEN


# --- truncated files and merge conflicts --------------------------------------


def test_a_truncated_file_is_left_to_a_person_and_restore_brings_it_back(user):
    path = user.file("calc.py", GOOD)
    assert once(user).returncode == 0  # clean: its last good version is kept
    cut = GOOD[: len(GOOD) // 3].rstrip() + "\ndef f9(x:\n"
    path.write_text(cut)
    result = once(user)
    assert result.json["attempts"] == []
    assert user.ollama.inference_requests == []
    [person] = result.json["needs_person"]
    assert person["kind"] == "truncated" and "mechanic restore" in person["reason"]
    assert path.read_text() == cut
    log = (user.state / "mechanic.log").read_text()
    assert any(
        json.loads(line)["event"] == "alert" and json.loads(line)["file"] == str(path)
        for line in log.splitlines()
    )
    status = user.run("status", "--json").json
    assert [p["kind"] for p in status["needs_person"]] == ["truncated"]
    assert "needs a person" in user.run("status").stdout

    restored = user.run("restore", str(path))
    assert restored.returncode == 0, restored.stderr
    assert path.read_text() == GOOD
    [backup] = user.backups_of("calc.py")
    assert backup.read_text() == cut  # what the person had is kept
    assert user.run("status", "--json").json["needs_person"] == []
    attempt_id = re.search(r"mechanic revert (\d+)", restored.stdout)[1]
    assert user.run("revert", attempt_id).returncode == 0
    assert path.read_text() == cut


def test_restore_without_a_known_good_version_says_so(user):
    path = user.file("never.py", SMALL_BROKEN)
    result = user.run("restore", str(path))
    assert result.returncode == 1
    assert "no good version" in result.stderr
    assert path.read_text() == SMALL_BROKEN


def test_restore_refuses_a_protected_file(user):
    user.configure(protected=["keep.py"])
    path = user.file("keep.py", SMALL_BROKEN)
    result = user.run("restore", str(path))
    assert result.returncode == 1 and "protected" in result.stderr


def test_merge_conflict_markers_are_left_to_a_person(user):
    text = "def f(x):\n<<<<<<< HEAD\n    return x + 1\n=======\n    return x + 2\n>>>>>>> feature\n"
    path = user.file("merge.py", text)
    result = once(user)
    assert result.json["attempts"] == [] and user.ollama.inference_requests == []
    [person] = result.json["needs_person"]
    assert person["kind"] == "conflict"
    assert "needs a person" in result.json["held"][0]["reason"]
    assert path.read_text() == text


def test_git_head_is_the_reference_for_a_file_mechanic_never_saw_clean(user):
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-C", str(user.src), "-c", "user.name=t", "-c", "user.email=t@t", *args],
            check=True,
            capture_output=True,
        )

    path = user.file("calc.py", GOOD)
    git("init", "-q")
    git("add", "calc.py")
    git("commit", "-qm", "good")
    path.write_text(GOOD[: len(GOOD) // 4] + "\ndef f9(x:\n")
    result = once(user)
    [person] = result.json["needs_person"]
    assert person["kind"] == "truncated" and "git HEAD" in person["reason"]
    assert user.run("restore", str(path)).returncode == 0
    assert path.read_text() == GOOD


def test_the_changed_region_widens_the_block_when_the_parser_points_elsewhere(user):
    user.configure(repair={"mode": "block"})
    text = JS_BIG
    path = user.file("steps.js", text)
    assert once(user).returncode == 0
    # The closing brace of step3 goes missing: V8 only complains at the end of the file.
    broken = text.replace(
        "  return out.replace(/[{}]/g, '');\n}\n\nfunction step4",
        "  return out.replace(/[{}]/g, '');\n\nfunction step4",
    )
    path.write_text(broken)
    user.ollama.reply(js_step(3))
    result = once(user)
    prompt = user.ollama.inference_requests[0].json["prompt"]
    assert "function step3(input) {" in prompt
    assert rungs(result) == [("block", "applied")]
    assert path.read_text() == text


# --- memory -------------------------------------------------------------------


def test_a_remembered_fix_is_reused_without_asking_the_model(user):
    first = user.file("a.py", BROKEN)
    user.ollama.reply(FIXED_F5)
    assert rungs(once(user)) == [("block", "applied")]
    assert len(user.ollama.inference_requests) == 1
    # The same fault comes back (a redeploy of the old code), and in a copy of the file.
    first.write_text(BROKEN)
    second = user.file("b.py", BROKEN)
    result = once(user)
    assert len(user.ollama.inference_requests) == 1  # no new request
    assert rungs(result) == [("memory", "applied"), ("memory", "applied")]
    for attempt in result.json["attempts"]:
        assert attempt["tokens"] == {"prompt": 0, "answer": 0}
    assert first.read_text() == FIXED and second.read_text() == FIXED


def test_past_fixes_in_the_project_are_shown_to_the_model(user):
    user.file("a.py", BROKEN)
    user.ollama.reply(FIXED_F5)
    once(user)
    user.file("c.py", GOOD.replace("    y = x + 2\n", "    y = x + 2 +\n"))
    user.ollama.reply("def f2(x):\n    y = x + 2\n    return y * 2")
    once(user)
    prompt = user.ollama.inference_requests[-1].json["prompt"]
    assert "EARLIER FIXES" in prompt and "return (y * 2)" in prompt


# --- three strikes ------------------------------------------------------------


def test_three_strikes_then_a_person_then_a_fresh_start_when_the_file_changes(user):
    user.configure(repair={"mode": "whole"})
    path = user.file("calc.py", SMALL_BROKEN)
    user.ollama.reply(SMALL_BROKEN.replace("sum(items", "sum(items]"))
    for _ in range(3):
        assert rungs(once(user)) == [("whole", "reverted")]
    result = once(user)
    assert len(user.ollama.inference_requests) == 3  # the fourth cycle asks nothing
    assert result.json["attempts"] == []
    [person] = result.json["needs_person"]
    assert person["kind"] == "strikes" and "3 failed attempts" in person["reason"]
    assert path.read_text() == SMALL_BROKEN
    assert "alert" in (user.state / "mechanic.log").read_text()
    # A person edits the file (still broken, differently): mechanic tries again.
    path.write_text(SMALL_BROKEN.replace("items", "things"))
    user.ollama.reply(SMALL_FIXED.replace("items", "things"))
    assert rungs(once(user)) == [("whole", "applied")]
    assert user.run("status", "--json").json["needs_person"] == []


def test_a_file_a_person_fixed_no_longer_needs_one(user):
    text = "x = 1\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> other\n"
    path = user.file("merge.py", text)
    assert len(once(user).json["needs_person"]) == 1
    path.write_text("x = 1\ny = 3\n")
    assert once(user).returncode == 0
    assert user.run("status", "--json").json["needs_person"] == []


def test_a_remembered_fix_is_not_applied_far_from_the_error(user):
    user.file("a.py", BROKEN)
    user.ollama.reply(FIXED_F5)
    once(user)
    # The remembered broken lines sit in a docstring; the same error is elsewhere.
    quoted = '"""Example:\n    y = x + 5\n    return (y * 2\n"""\n'
    path = user.file("b.py", quoted + GOOD.replace("print(f1(LIMIT))", "print(f1(LIMIT)"))
    user.ollama.respond(lambda req: req.prompt.split("BLOCK:\n")[1] + ")")
    result = once(user)
    assert [r for r, _ in rungs(result)] == ["block"]
    assert path.read_text() == quoted + GOOD


# --- the record ---------------------------------------------------------------


def test_status_shows_fix_rate_and_cost_per_rung(user):
    user.file("calc.py", BROKEN)
    user.ollama.replies(
        [
            Reply("nonsense(", prompt_eval_count=50, eval_count=5),
            Reply(FIXED, prompt_eval_count=900, eval_count=300),
        ]
    )
    once(user)
    stats = {r["rung"]: r for r in user.run("status", "--json").json["rungs"]}
    assert stats["block"]["attempts"] == 1 and stats["block"]["applied"] == 0
    assert stats["whole"]["fix_rate"] == 1.0
    assert stats["whole"]["tokens"] == {"prompt": 900, "answer": 300}
    text = user.run("status").stdout
    assert "by rung" in text and "block" in text and "whole" in text


def test_backend_none_still_reuses_remembered_fixes(user):
    first = user.file("a.py", BROKEN)
    user.ollama.reply(FIXED_F5)
    once(user)
    user.write_config(mechanic={"file_cooldown_hours": 0}, repair={"deterministic": False})
    first.write_text(BROKEN)
    user.file("b.py", SMALL_BROKEN)
    result = once(user)
    assert rungs(result) == [("memory", "applied")]
    held = {h["file"].rsplit("/", 1)[1]: h["reason"] for h in result.json["held"]}
    assert "llm.backend is 'none'" in held["b.py"]


# --- a file left to a person is alerted, once per mark ------------------------


@pytest.fixture
def hook():
    with HttpServer(lambda req: (200, "ok")) as server:
        yield server


def person_alerts(hook) -> list[tuple[str, str, str]]:
    bodies = [r.json() for r in hook.requests]
    return [(b["file"], b["reason"], b["event"]) for b in bodies]


def test_three_strikes_send_one_webhook_alert_naming_the_file_and_reason(user, hook):
    user.configure(repair={"mode": "whole"}, raw=webhook(hook.url))
    path = user.file("calc.py", SMALL_BROKEN)
    user.ollama.reply(SMALL_BROKEN.replace("sum(items", "sum(items]"))  # a bad fix, always
    for _ in range(2):
        once(user)
    assert hook.requests == []  # two strikes are not news
    once(user)  # the third strike marks it
    assert person_alerts(hook) == [(str(path), "strikes", "needs a person")]
    for _ in range(2):
        once(user)  # still marked, still unchanged: no second alert
    assert len(hook.requests) == 1
    body = hook.requests[0].json()
    assert "3 failed attempts" in body["message"] and body["text"].startswith(
        f"mechanic: {path} needs a person"
    )


def test_a_conflicted_file_sends_one_webhook_alert(user, hook):
    user.configure(raw=webhook(hook.url))
    text = "x = 1\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> other\n"
    path = user.file("merge.py", text)
    for _ in range(3):
        assert once(user).json["needs_person"]
    assert person_alerts(hook) == [(str(path), "conflict", "needs a person")]
    assert "conflict" in hook.requests[0].json()["message"]
    # A person edits it (still in conflict): a new mark, a new alert.
    path.write_text(text.replace("y = 3", "y = 4"))
    once(user)
    assert len(hook.requests) == 2


def test_a_dead_webhook_does_not_break_the_cycle(user):
    user.configure(raw=webhook(f"http://127.0.0.1:{free_port()}/hook"))
    text = "x = 1\n<<<<<<< HEAD\ny = 2\n=======\ny = 3\n>>>>>>> other\n"
    path = user.file("merge.py", text)
    user.file("calc.py", SMALL_BROKEN)
    user.ollama.reply(SMALL_FIXED)
    result = once(user)
    assert [p["kind"] for p in result.json["needs_person"]] == ["conflict"]
    assert [o for _, o in rungs(result)] == ["applied"]  # the other file is still repaired
    events = [json.loads(line) for line in (user.state / "mechanic.log").open()]
    failed = [e for e in events if e["event"] == "alert.failed"]
    assert [(e["file"], e["error"]) for e in failed] == [(str(path), "connection failed")]


def test_a_person_alert_carries_no_secret(tmp_path):
    reason = 'invalid syntax near password = "hunter2-hunter2" (line 3)'
    alert = Alert.needs_person(tmp_path / "a.py", "strikes", reason)
    body = json.dumps(alert.to_json())
    assert "hunter2" not in body and "line 3" in body and str(tmp_path / "a.py") in body
